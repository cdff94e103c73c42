"""The benchmark harness (issue 6): `python -m bench` measures the product on PostgreSQL, each
figure beside a ceiling measured in the same run on the same machine. See bench/README.md."""

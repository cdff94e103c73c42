"""A posting endpoint with nothing but what DRF and PostgreSQL must do: parse and validate the
body with a minimal serializer, then one transaction of ``UPDATE`` balance + ``INSERT`` event
on the scratch tables. No authentication, permissions, catalog checks, idempotency, head or
chain: what the product adds to this is its overhead."""
from django.db import connection, transaction
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import sql


class MovementSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(["receipt", "issue", "transfer"])
    product = serializers.IntegerField(min_value=1)
    location = serializers.IntegerField(min_value=1, required=False)
    from_location = serializers.IntegerField(min_value=1, required=False)
    to_location = serializers.IntegerField(min_value=1, required=False)
    quantity = serializers.DecimalField(max_digits=18, decimal_places=3, min_value=0)
    unit_cost = serializers.DecimalField(max_digits=18, decimal_places=4, required=False)


class BareMovementView(APIView):
    authentication_classes = []
    permission_classes = []

    def post(self, request):
        serializer = MovementSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        delta = data["quantity"] if data["kind"] == "receipt" else -data["quantity"]
        params = {"product": data["product"], "location": data.get("location") or data.get("from_location"),
                  "delta": delta, "position": None}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql.UPDATE_BALANCE, params)
            balance = cursor.fetchone()
            if balance is None:
                return Response({"code": "insufficient_stock"}, status=status.HTTP_409_CONFLICT)
            cursor.execute(sql.INSERT_EVENT, params)
        return Response({"product": params["product"], "location": params["location"], "quantity": balance[0]},
                        status=status.HTTP_201_CREATED)

"""Settings, split by concern; each module reads the environment through ``env``."""
from .base import *  # noqa: F401,F403
from .security import *  # noqa: F401,F403
from .database import *  # noqa: F401,F403
from .api import *  # noqa: F401,F403
from .celery import *  # noqa: F401,F403
from .history import *  # noqa: F401,F403
from .anchors import *  # noqa: F401,F403
from .valuation import *  # noqa: F401,F403
from .logging import *  # noqa: F401,F403

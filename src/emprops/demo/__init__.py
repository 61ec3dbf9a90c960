"""`emprops demo`: the whole product on the embedded defaults, resumable, one at a time."""

from emprops.demo.journey import DemoJourney, DemoResult, collector_address
from emprops.demo.lock import DemoAlreadyRunningError, DemoLock
from emprops.demo.stack import DemoStack
from emprops.demo.state import DemoState

__all__ = [
    "DemoAlreadyRunningError",
    "DemoJourney",
    "DemoLock",
    "DemoResult",
    "DemoStack",
    "DemoState",
    "collector_address",
]

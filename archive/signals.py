"""Events other packages listen to, so the core never imports them (layering).

Senders fire these only after the database commit that made the change durable.
"""

from blinker import Namespace

_signals = Namespace()

#: A version was stored and committed. kwargs: ``version_id`` (UUID), ``record_id`` (UUID).
version_stored = _signals.signal("version-stored")

#: A version's data keys were destroyed (crypto-shredding). kwargs: ``version_id``.
version_destroyed = _signals.signal("version-destroyed")

#: A person changed a record's class. kwargs: ``record_id`` (UUID).
record_reclassified = _signals.signal("record-reclassified")

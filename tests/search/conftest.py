from tests.ingest.conftest import any_arc, clamav_database, iarc

__all__ = ["any_arc", "clamav_database", "iarc"]

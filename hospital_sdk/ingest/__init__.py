"""Loading source files into the raw layer of the lakehouse.

:func:`load_folder` reads a folder of Parquet/CSV files (UTF-8 or GBK/GB18030) named after the
contract's tables, validates every row against the contract in DuckDB, tokenises identity-document
numbers, and writes good rows to ``lake.raw.<table>`` and bad rows, with their reasons, to
``lake.raw.load_rejects``. Each file is one transaction, reconciled (rows in = loaded + rejected)
in ``lake.raw.load_batches``; reloading an unchanged file does nothing, a changed file replaces
its own rows.
"""

from hospital_sdk.ingest.identity import Tokeniser, token_key
from hospital_sdk.ingest.loader import LINEAGE, load_file, load_folder, raw_schema
from hospital_sdk.ingest.reconciliation import BATCHES, REJECTS, FileLoad, LoadReport
from hospital_sdk.ingest.source_files import SourceFile, detect_encoding, discover, table_for
from hospital_sdk.ingest.validation import ValidationQuery, compile_validation

__all__ = [
    "BATCHES", "LINEAGE", "REJECTS", "FileLoad", "LoadReport", "SourceFile", "Tokeniser",
    "ValidationQuery", "compile_validation", "detect_encoding", "discover", "load_file",
    "load_folder", "raw_schema", "table_for", "token_key",
]

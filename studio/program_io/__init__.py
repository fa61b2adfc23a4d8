"""Programme files: studios and sessions imported from and exported to YAML or CSV.

Pure: text in, text out (``reading``, ``writing``, ``cells``), documents made from the store's
records and moved in time (``document``), and what an import writes (``importing``). Exporting
and parsing again gives an equal document. The format is in docs/program-format.md, imports in
docs/architecture.md, "How data flows".
"""

from studio.program_io.document import (
    ProgramDocument,
    ProgramSession,
    ProgramStudio,
    document_from,
    rebase,
    shift_to_start,
)
from studio.program_io.importing import ImportDefaults, ImportPlan, ImportResult, plan_import
from studio.program_io.reading import parse_csv, parse_yaml
from studio.program_io.writing import to_csv, to_yaml

__all__ = [
    "ImportDefaults",
    "ImportPlan",
    "ImportResult",
    "ProgramDocument",
    "ProgramSession",
    "ProgramStudio",
    "document_from",
    "parse_csv",
    "parse_yaml",
    "plan_import",
    "rebase",
    "shift_to_start",
    "to_csv",
    "to_yaml",
]

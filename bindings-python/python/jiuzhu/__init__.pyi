"""Type stubs of jiuzhu (救助): money is ``decimal.Decimal``, never ``float``."""

import datetime
import os
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Tuple, TypedDict, Union

from ._errors import (
    JiuzhuError as JiuzhuError,
    PackError as PackError,
    ParameterError as ParameterError,
    RuleError as RuleError,
    UsageError as UsageError,
    ValidationError as ValidationError,
)

__version__: str
ARROW_MONEY_TYPE: str

#: A household: a dict (money as str, int or Decimal), JSON text, or UTF-8 JSON bytes.
Household = Union[Mapping[str, Any], str, bytes]
DateLike = Union[str, datetime.date]

class FieldError(TypedDict):
    path: str
    message: str

class PackInfo(TypedDict):
    name: str
    version: str
    digest: str

class _ReasonFields(TypedDict):
    code: str
    basis: str
    values: Dict[str, Any]  # decimal figures as Decimal

class Reason(_ReasonFields, total=False):
    message: str  # absent when evaluated with messages=False

class ProgramResult(TypedDict, total=False):
    status: Literal["eligible", "ineligible", "review"]
    category: str  # only for programs that return one (subsistence: dibao, tekun, …)
    amount: Decimal
    period: Literal["monthly", "one_off", "annual"]
    members: Dict[str, Dict[str, Any]]
    reasons: List[Reason]
    details: Dict[str, Any]

class Totals(TypedDict):
    monthly: Decimal
    one_off: Decimal
    annual: Decimal

class Assessment(TypedDict, total=False):
    household_id: str
    as_of: str
    region: str
    rule_pack: PackInfo
    derived: Dict[str, Any]  # size: int, counted_income … per_capita_income: Decimal, members
    programs: Dict[str, ProgramResult]
    totals: Totals
    trace: List[Dict[str, Any]]  # only with trace=True

class ErrorRecord(TypedDict):
    index: int
    id: Optional[str]
    errors: List[FieldError]

class Sides(TypedDict):
    baseline: Any
    reform: Any

class ProgramComparison(TypedDict):
    recipients: Sides  # int on each side
    cost: Sides  # Decimal on each side
    gainers: int
    losers: int
    unchanged: int

class Change(TypedDict):
    household_id: str
    program: str
    baseline: Decimal
    reform: Decimal
    change: Decimal

class Engine:
    """A compiled rule pack plus parameter overrides; immutable, thread-safe, picklable."""

    def __init__(self) -> None: ...
    @classmethod
    def from_dir(cls, path: Union[str, os.PathLike[str]]) -> Engine: ...
    @classmethod
    def from_files(cls, files: Mapping[str, str]) -> Engine: ...
    @property
    def programs(self) -> List[str]: ...
    @property
    def languages(self) -> List[str]: ...
    @property
    def regions(self) -> List[str]: ...
    @property
    def pack(self) -> PackInfo: ...
    @property
    def overrides(self) -> List[Tuple[str, str]]: ...
    def evaluate(
        self,
        household: Household,
        as_of: Optional[DateLike] = None,
        lang: Optional[str] = None,
        trace: bool = False,
        messages: bool = True,
    ) -> Assessment: ...
    def evaluate_many(
        self,
        households: Iterable[Household],
        threads: Optional[int] = None,
        as_of: Optional[DateLike] = None,
        lang: Optional[str] = None,
        trace: bool = False,
        messages: bool = True,
    ) -> List[Union[Assessment, ErrorRecord]]: ...
    def frame_columns(self, categories: Optional[Sequence[str]] = None) -> List[Tuple[str, Literal["text", "money"]]]: ...
    def evaluate_frame(
        self,
        frame: Any,
        *,
        column: str = "household",
        threads: Optional[int] = None,
        as_of: Optional[DateLike] = None,
        categories: Optional[Sequence[str]] = None,
    ) -> Any:
        """pandas.DataFrame -> pandas.DataFrame; pyarrow.Table -> pyarrow.Table;
        pyarrow.RecordBatch -> pyarrow.RecordBatch."""
    def with_parameters(self, overrides: Union[Mapping[str, Union[str, int, Decimal]], Iterable[str]]) -> Engine: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Dict[str, Any]]]: ...

class Comparison(Dict[str, Any]):
    """households: int, errors: int, programs: Dict[str, ProgramComparison], top_changes: List[Change]."""

    def to_frame(self) -> Any: ...

def compare(baseline: Engine, reform: Engine, households: Any, as_of: Optional[DateLike] = None) -> Comparison: ...
def compare_frame(result: Mapping[str, Any]) -> Any: ...
def synth(
    n: int,
    seed: int = 42,
    region: Optional[str] = None,
    as_of: DateLike = "2025-03-01",
    engine: Optional[Engine] = None,
) -> List[str]: ...

"""jiuzhu (救助): decide community social assistance from a household profile.

The Python door of the jiuzhu rules engine. The engine itself is Rust (``jiuzhu-core``);
this package converts Python objects in and out, exactly: money comes back as
``decimal.Decimal`` and goes in as ``str``, ``int`` or ``Decimal``, never ``float``.

>>> import jiuzhu
>>> engine = jiuzhu.Engine()                      # the embedded default rule pack
>>> a = engine.evaluate(household)                # dict or JSON text -> assessment dict
>>> a["programs"]["subsistence"]["amount"]
Decimal('2245.00')
>>> rows = engine.evaluate_many(households)       # in parallel, errors per record
>>> df2 = engine.evaluate_frame(df)               # pandas / pyarrow: one flat row each
>>> reform = engine.with_parameters({"subsistence.standard": "1500"})
>>> jiuzhu.compare(engine, reform, households)    # cost, recipients, gainers, losers

Errors are exceptions: ``ValidationError`` (``.errors``: every problem with its JSON
path), ``ParameterError``, ``RuleError``, ``PackError``, ``UsageError``, all
subclasses of ``JiuzhuError``.
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import os as _os
import sys as _sys
import threading as _threading
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ._errors import (
    JiuzhuError,
    PackError,
    ParameterError,
    RuleError,
    UsageError,
    ValidationError,
)
from . import _jiuzhu

__all__ = [
    "Engine",
    "Comparison",
    "compare",
    "compare_frame",
    "synth",
    "JiuzhuError",
    "ValidationError",
    "ParameterError",
    "RuleError",
    "PackError",
    "UsageError",
]

__version__ = _jiuzhu.CORE_VERSION

#: Exact type of every money column of an Arrow frame: 18 digits, 2 after the point.
ARROW_MONEY_TYPE = "decimal128(18, 2)"


def _date_text(name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        raise UsageError(f"{name}: give a date (YYYY-MM-DD or datetime.date), not a datetime")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise UsageError(f"{name}: give a date as 'YYYY-MM-DD' or datetime.date, not {type(value).__name__}")


def _today() -> str:
    return _dt.date.today().isoformat()


def _override_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        raise ParameterError(
            f"override {name}: a float ({value!r}) is not exact: give the value as a str or a decimal.Decimal"
        )
    if isinstance(value, (str, int, _decimal.Decimal)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ",".join(_override_text(name, v) for v in value)
    raise ParameterError(f"override {name}: a {type(value).__name__} is not a parameter value (give a str)")


# Engines rebuilt from a pickle, kept per process: a Dask worker unpickles the same
# engine for every partition, and compiling a pack's scripts once is enough.
_CACHE: Dict[Any, "_jiuzhu.Core"] = {}
_CACHE_LOCK = _threading.Lock()
_CACHE_SIZE = 8


def _cached(key: Any, build) -> "_jiuzhu.Core":
    with _CACHE_LOCK:
        core = _CACHE.get(key)
    if core is None:
        core = build()
        with _CACHE_LOCK:
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = core
    return core


def _rebuild(state: Mapping[str, Any]) -> "Engine":
    """Rebuilds a pickled engine (see ``Engine.__reduce__``)."""
    pack = state["pack"]
    overrides = [tuple(o) for o in state.get("overrides", [])]
    if pack == "embedded":
        key: Any = ("embedded", tuple(overrides))

        def build():
            base = _cached(("embedded", ()), _jiuzhu.Core.embedded)
            return base.with_parameters(overrides) if overrides else base

    else:
        files = dict(pack)
        key = ("files", tuple(sorted(files.items())), tuple(overrides))

        def build():
            core = _jiuzhu.Core.from_files(files)
            return core.with_parameters(overrides) if overrides else core

    return Engine._wrap(_cached(key, build))


def _frame_kind(frame: Any) -> str:
    pd = _sys.modules.get("pandas")
    if pd is not None and isinstance(frame, pd.DataFrame):
        return "pandas"
    pa = _sys.modules.get("pyarrow")
    if pa is not None:
        if isinstance(frame, pa.Table):
            return "arrow"
        if isinstance(frame, pa.RecordBatch):
            return "arrow-batch"
    raise UsageError(
        f"evaluate_frame takes a pandas.DataFrame, a pyarrow.Table or a pyarrow.RecordBatch, not {type(frame).__name__}"
    )


def _column(frame: Any, kind: str, column: str) -> List[Any]:
    names = list(frame.columns) if kind == "pandas" else list(frame.schema.names)
    if column not in names:
        raise UsageError(f"the frame has no column {column!r} (its columns: {', '.join(map(str, names))})")
    if kind == "pandas":
        return frame[column].tolist()
    return frame.column(column).to_pylist()


def _households(households: Any) -> Any:
    """A frame's household column, or the households as given."""
    pd = _sys.modules.get("pandas")
    pa = _sys.modules.get("pyarrow")
    if (pd is not None and isinstance(households, pd.DataFrame)) or (
        pa is not None and isinstance(households, (pa.Table, pa.RecordBatch))
    ):
        return _column(households, _frame_kind(households), "household")
    return households


class Engine:
    """A compiled rule pack, plus parameter overrides (none for today's rules).

    ``Engine()`` is the default pack embedded in the package (cn-social-assistance);
    ``Engine.from_dir(path)`` loads a pack folder. An engine is immutable, safe to share
    between threads, and pickles (the pack's files and overrides travel, the worker
    compiles them again), so it can be shipped to Dask or Spark workers.

    Methods: ``evaluate`` (one household), ``evaluate_many`` (a list, in parallel),
    ``evaluate_frame`` (a pandas DataFrame or pyarrow Table), ``with_parameters`` (a
    reform). Properties: ``programs``, ``languages``, ``regions``, ``pack``,
    ``overrides``.
    """

    __slots__ = ("_core",)

    def __init__(self) -> None:
        """The default rule pack embedded in the package (compiled once per process)."""
        self._core = _cached(("embedded", ()), _jiuzhu.Core.embedded)

    @classmethod
    def _wrap(cls, core: "_jiuzhu.Core") -> "Engine":
        engine = cls.__new__(cls)
        engine._core = core
        return engine

    @classmethod
    def from_dir(cls, path: Union[str, "_os.PathLike[str]"]) -> "Engine":
        """Loads and compiles the rule pack in folder ``path`` (pack.toml, parameters/,
        programs/, messages/). Raises ``PackError`` listing every problem (file:line)."""
        return cls._wrap(_jiuzhu.Core.from_dir(_os.fspath(path)))

    @classmethod
    def from_files(cls, files: Mapping[str, str]) -> "Engine":
        """A pack given as ``{relative path: text}`` (``"pack.toml"``,
        ``"programs/subsistence.rhai"``, …), e.g. read from a zip or a database."""
        return cls._wrap(_jiuzhu.Core.from_files(dict(files)))

    # -- what the pack is -----------------------------------------------------------

    @property
    def programs(self) -> List[str]:
        """Program ids in run order, e.g. ``['subsistence', 'temporary', 'medical', 'student', 'employment']``."""
        return self._core.programs

    @property
    def languages(self) -> List[str]:
        """Languages of the reasons' messages; the first is the default."""
        return self._core.languages

    @property
    def regions(self) -> List[str]:
        """Region codes the pack has parameters for (a household's region must be one of
        them or lie below one)."""
        return self._core.regions

    @property
    def pack(self) -> Dict[str, str]:
        """``{"name", "version", "digest"}`` of the pack, as in every assessment's ``rule_pack``."""
        return self._core.pack_info

    @property
    def overrides(self) -> List[Tuple[str, str]]:
        """The parameter overrides of this engine, as ``[(target, value)]``."""
        return [tuple(o) for o in self._core.overrides]

    # -- evaluating -----------------------------------------------------------------

    def evaluate(
        self,
        household: Union[Mapping[str, Any], str, bytes],
        as_of: Union[str, _dt.date, None] = None,
        lang: Optional[str] = None,
        trace: bool = False,
        messages: bool = True,
    ) -> Dict[str, Any]:
        """Assesses one household: a dict or JSON text -> the assessment dict.

        The assessment has ``household_id``, ``as_of``, ``region``, ``rule_pack``,
        ``derived``, ``programs`` (id -> ``status``, ``category``, ``amount``, ``period``,
        ``members``, ``reasons``, ``details``) and ``totals``; with ``trace=True`` also
        ``trace`` (every parameter read, every result: enough to replay the decision).
        Money is ``decimal.Decimal``: amounts, totals, derived figures and the decimal
        values of reasons, members and details.

        ``as_of`` (``"YYYY-MM-DD"`` or ``datetime.date``) overrides the household's own
        ``as_of``; when neither is given, today's date is used. ``lang``: ``"zh"`` or
        ``"en"`` for the default pack (default: the pack's first language, ``"zh"``).
        ``messages=False`` leaves each reason's ``message`` out (its ``code``, ``basis``
        and ``values`` stay): less to make when the caller reads codes only.

        In the household, money may be ``str`` (recommended), ``int`` or ``Decimal``; a
        ``float`` anywhere is refused (``ValidationError`` naming its path).

        Raises ``ValidationError`` (``.errors``: every problem with its JSON path),
        ``ParameterError``, ``RuleError`` or ``UsageError``.
        """
        return self._core.evaluate(household, _date_text("as_of", as_of), _today(), lang, bool(trace), bool(messages))

    def evaluate_many(
        self,
        households: Iterable[Union[Mapping[str, Any], str, bytes]],
        threads: Optional[int] = None,
        as_of: Union[str, _dt.date, None] = None,
        lang: Optional[str] = None,
        trace: bool = False,
        messages: bool = True,
    ) -> List[Dict[str, Any]]:
        """Assesses many households in parallel (in Rust, without holding the GIL).

        Returns one entry per household, in order: its assessment dict (as ``evaluate``
        gives), or for a household that failed ``{"index": i, "id": <its id or None>,
        "errors": [{"path", "message"}, ...]}``. A bad record never raises.

        ``threads``: ``None`` or 0 uses every core, 1 the calling thread only, n a pool
        of n threads. Households go a slice at a time (128 for each thread), so memory
        stays flat; with two threads or more, the calling thread turns one slice into
        Python objects (which needs the GIL) while the others decide the next. ``messages=False`` leaves each reason's ``message`` out, as in
        ``evaluate``: for a population read by reason codes, about a tenth less time
        and memory.
        """
        return self._core.evaluate_many(households, threads, _date_text("as_of", as_of), _today(), lang, bool(trace), bool(messages))

    def frame_columns(self, categories: Optional[Sequence[str]] = None) -> List[Tuple[str, str]]:
        """The columns of ``evaluate_frame`` as ``[(name, kind)]``, kind ``"text"`` or
        ``"money"``: ``household_id``, then per program ``<id>_status``,
        ``<id>_category`` (for the programs in ``categories``, default
        ``["subsistence"]``) and ``<id>_amount``, then ``total_monthly``,
        ``total_one_off``, ``total_annual`` and ``error``. Fixed for a pack."""
        return [tuple(c) for c in self._core.frame_schema(self._categories(categories))]

    def _categories(self, categories: Optional[Sequence[str]]) -> List[str]:
        if categories is None:
            return [p for p in ("subsistence",) if p in self.programs]
        if isinstance(categories, str):
            categories = [categories]
        unknown = [c for c in categories if c not in self.programs]
        if unknown:
            raise UsageError(f"categories: no program {', '.join(unknown)} in the pack (its programs: {', '.join(self.programs)})")
        return list(categories)

    def evaluate_frame(
        self,
        frame: Any,
        *,
        column: str = "household",
        threads: Optional[int] = None,
        as_of: Union[str, _dt.date, None] = None,
        categories: Optional[Sequence[str]] = None,
    ) -> Any:
        """Assesses the households of a frame: one flat row per input row.

        ``frame`` is a pandas ``DataFrame``, a pyarrow ``Table`` or ``RecordBatch`` with
        a column ``household`` (JSON text or dicts); the result is of the same kind, with
        the input's row index for pandas, and the columns of ``frame_columns()``:

        * ``household_id``; per program ``<id>_status`` and ``<id>_amount`` (and
          ``subsistence_category``); ``total_monthly``, ``total_one_off``,
          ``total_annual``: the assessment's figures;
        * ``error``: ``None``, or for a household that failed every problem as
          ``"path: message"`` joined with ``"; "`` (its other columns are then None).

        Money is exact: ``decimal128(18, 2)`` columns in Arrow, ``Decimal`` objects
        (dtype ``object``) in pandas. A bad row never raises; an empty frame gives an
        empty frame with the same columns and types, so this works as the function of
        ``dask.dataframe.map_partitions`` (no ``meta=`` needed) and of Spark's
        ``mapInPandas`` / ``mapInArrow``.
        """
        kind = _frame_kind(frame)
        households = _column(frame, kind, column)
        cats = self._categories(categories)
        schema = self._core.frame_schema(cats)
        columns = self._core.evaluate_columns(households, cats, threads, _date_text("as_of", as_of), _today())
        if kind == "pandas":
            import pandas as pd

            data = {name: pd.Series(col, index=frame.index, dtype=object) for (name, _), col in zip(schema, columns)}
            return pd.DataFrame(data, index=frame.index, columns=[name for name, _ in schema])
        import pyarrow as pa

        arrays = [
            pa.array(col, type=pa.decimal128(18, 2) if k == "money" else pa.string()) for (_, k), col in zip(schema, columns)
        ]
        names = [name for name, _ in schema]
        if kind == "arrow":
            return pa.Table.from_arrays(arrays, names=names)
        return pa.RecordBatch.from_arrays(arrays, names=names)

    # -- reforms ----------------------------------------------------------------------

    def with_parameters(self, overrides: Union[Mapping[str, Any], Iterable[str]]) -> "Engine":
        """The same pack with parameter overrides: a reform. The compiled rules are shared.

        ``overrides`` maps ``"NAME"`` (every region) or ``"REGION:NAME"`` (a region and
        the regions below it) to a value given as ``str`` (or ``int`` / ``Decimal``),
        e.g. ``{"subsistence.standard": "1500", "110000:medical.annual_cap": "80000"}``;
        or is a list of ``"[REGION:]NAME=VALUE"`` texts. They add to this engine's own.
        Raises ``ParameterError`` for an unknown parameter or a value of the wrong type.
        """
        pairs: List[Tuple[str, str]] = []
        if isinstance(overrides, Mapping):
            for name, value in overrides.items():
                pairs.append((str(name), _override_text(str(name), value)))
        elif isinstance(overrides, str):
            raise ParameterError("with_parameters: give a dict {name: value} or a list of 'NAME=VALUE' texts")
        else:
            for spec in overrides:
                if not isinstance(spec, str) or "=" not in spec:
                    raise ParameterError(f"override {spec!r}: expected '[REGION:]NAME=VALUE'")
                name, value = spec.split("=", 1)
                pairs.append((name.strip(), value.strip()))
        return Engine._wrap(self._core.with_parameters(pairs))

    # -- Python protocol ---------------------------------------------------------------

    def __reduce__(self):
        """Pickles as the pack's files (or just "embedded") plus the overrides; the
        receiving process compiles them again (once: rebuilt engines are cached)."""
        return (_rebuild, (self._core.state(),))

    def __repr__(self) -> str:
        info = self.pack
        extra = f", {len(self.overrides)} override(s)" if self.overrides else ""
        return f"<jiuzhu.Engine {info['name']} {info['version']}{extra}>"


class Comparison(dict):
    """The result of ``compare``: a dict with the shape of ``jiuzhu compare``'s JSON.

    ``{"households": int, "errors": int, "programs": {id: {"recipients": {"baseline",
    "reform"}, "cost": {"baseline", "reform"}, "gainers", "losers", "unchanged"}},
    "top_changes": [{"household_id", "program", "baseline", "reform", "change"}]}``;
    counts are ``int``, money ``Decimal``. ``to_frame()`` gives one row per program.
    """

    def to_frame(self) -> Any:
        """A pandas DataFrame, one row per program (see ``compare_frame``)."""
        return compare_frame(self)


def compare(
    baseline: Engine,
    reform: Engine,
    households: Any,
    as_of: Union[str, _dt.date, None] = None,
) -> Comparison:
    """Assesses the same households under ``baseline`` and ``reform`` (in parallel).

    Counts only *payable* amounts: a program's amount when its status is ``eligible``.
    Per program: recipients and cost on each side, and how many households gained, lost
    or kept the same amount; plus the 10 largest changes. A household that fails under
    either side counts in ``errors`` only. ``households``: a list of dicts or JSON texts,
    or a frame with a ``household`` column. Same figures as ``jiuzhu compare``.
    """
    if not isinstance(baseline, Engine) or not isinstance(reform, Engine):
        raise UsageError("compare(baseline, reform, households): baseline and reform are jiuzhu.Engine objects")
    result = baseline._core.compare(reform._core, _households(households), _date_text("as_of", as_of), _today())
    return Comparison(result)


def compare_frame(result: Mapping[str, Any]) -> Any:
    """A comparison as a pandas DataFrame indexed by program, with the columns
    ``recipients_baseline``, ``recipients_reform``, ``recipients_change``,
    ``cost_baseline``, ``cost_reform``, ``cost_change`` (``Decimal``), ``gainers``,
    ``losers``, ``unchanged``."""
    import pandas as pd

    rows = []
    for program, p in result["programs"].items():
        rows.append(
            {
                "program": program,
                "recipients_baseline": p["recipients"]["baseline"],
                "recipients_reform": p["recipients"]["reform"],
                "recipients_change": p["recipients"]["reform"] - p["recipients"]["baseline"],
                "cost_baseline": p["cost"]["baseline"],
                "cost_reform": p["cost"]["reform"],
                "cost_change": p["cost"]["reform"] - p["cost"]["baseline"],
                "gainers": p["gainers"],
                "losers": p["losers"],
                "unchanged": p["unchanged"],
            }
        )
    columns = [
        "program",
        "recipients_baseline",
        "recipients_reform",
        "recipients_change",
        "cost_baseline",
        "cost_reform",
        "cost_change",
        "gainers",
        "losers",
        "unchanged",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for c in ("cost_baseline", "cost_reform", "cost_change"):
        frame[c] = frame[c].astype(object)
    for c in ("recipients_baseline", "recipients_reform", "recipients_change", "gainers", "losers", "unchanged"):
        frame[c] = frame[c].astype("int64")
    return frame.set_index("program")


def synth(
    n: int,
    seed: int = 42,
    region: Optional[str] = None,
    as_of: Union[str, _dt.date] = "2025-03-01",
    engine: Optional[Engine] = None,
) -> List[str]:
    """``n`` synthetic households as JSON texts (the generator of ``jiuzhu synth``):
    varied sizes, incomes, members and regions of the pack, deterministic for a seed.
    For trying things out; not a statistical model of any real population."""
    engine = engine if engine is not None else Engine()
    return _jiuzhu.synth(engine._core, int(n), int(seed), region, _date_text("as_of", as_of))

"""The SIMON microprotocols as typed Python functions.

    network = tessera.Network(nodes=[url0, url1, url2], uuid="5f0c...", myself=0)
    tessera.secure_sum(19, network)                       # {'samples': 3, 'sum': 85.0}
    tessera.statistics_univariate([3.0, 1.5, 6.0], network)  # {'mean': 3.25, ...}

Every party calls the same function at the same time, each with its own data and its own index
`myself`, against its own server (`nodes[myself]`, or `api=`); each call returns when the result
is known. Each function is `compute` on the server's Simon microservice with the wire shape that
microprotocol reads (a matrix, a set or a record wrapped in an outer list, as FSC's accumulators
read a top-level list item by item), and returns the result's `result` member. `compute()` is the
generic form and returns the whole download, `{"inputs": n, "result": {...}}`.

NumPy arrays and torch tensors are accepted wherever numbers are. Bad input is refused by the
server with a TesseraError whose `where` names the field (`kwargs.data[1][0]`).
"""

import sys
from typing import Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

if sys.version_info >= (3, 8):
    from typing import TypedDict
else:  # pragma: no cover - Debian 12 has 3.11
    TypedDict = dict

from .api import DEFAULT_TIMEOUT, Api
from .errors import TesseraInputError

__all__ = [
    "Network", "compute", "MICROPROTOCOLS",
    "secure_sum", "secure_matrix_multiplication", "secure_median", "kth_element", "minimum_maximum",
    "set_intersection", "set_intersection_size", "statistics_univariate", "statistics_bivariate",
    "statistics_frequency", "statistics_contingency", "statistics_contingency_vertical",
    "statistics_regression_ols_vertical",
]

Number = Union[int, float]
Matrix = Sequence[Sequence[Number]]


class Network(NamedTuple):
    """The parties of one computation: the same `nodes` and `uuid` at every party, and this
    party's index `myself` into `nodes`. The uuid may be reused: each call is a new computation."""

    nodes: Sequence[str]
    uuid: str
    myself: int

    def to_json(self):
        return {"nodes": list(self.nodes), "uuid": self.uuid, "myself": self.myself}


def _network(network):
    if isinstance(network, Network):
        return network
    if isinstance(network, Mapping) and {"nodes", "uuid", "myself"} <= set(network):
        return Network(list(network["nodes"]), network["uuid"], network["myself"])
    raise TesseraInputError("network needs nodes, uuid and myself", where="network")


def _api(network, api, token, timeout):
    if api is not None:
        return api
    if not isinstance(network.myself, int) or not 0 <= network.myself < len(network.nodes):
        raise TesseraInputError("myself must index nodes (0..%d)" % (len(network.nodes) - 1), where="network.myself")
    return Api(network.nodes[network.myself], token=token, timeout=timeout)


def _release(api, *representations):
    for representation in representations:
        try:
            api.release(representation)
        except Exception:  # noqa: BLE001 - freeing is best effort; the result (or error) matters
            pass


def compute(microprotocol, data, network, api=None, token=None, timeout=DEFAULT_TIMEOUT, **options):
    """Runs `microprotocol` on `data` with the parties of `network`; the download,
    {"inputs": n, "result": {...}}. `options` are further keyword arguments of compute
    (e.g. ring_bits). Every representation made on the way is released."""
    network = _network(network)
    api = _api(network, api, token, timeout)
    simon = api.create(protocol="Simon")
    try:
        member = simon.compute
        try:
            result = member(microprotocol=microprotocol, data=data, network=network.to_json(), **options)
        finally:
            _release(api, member)
        try:
            return api.download(result)
        finally:
            _release(api, result)
    finally:
        _release(api, simon)


def _result(microprotocol, data, network, api, token, timeout):
    return compute(microprotocol, data, network, api=api, token=token, timeout=timeout)["result"]


def _numbers(value, where):
    """A number, or a flat sequence (NumPy array, tensor) of numbers, as JSON numbers."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        value = tolist()
    if isinstance(value, (int, float)) or isinstance(value, (str, bytes, Mapping)):
        return _number(value, where)
    try:
        items = list(value)
    except TypeError:
        return _number(value, where)
    return [_number(v, "%s[%d]" % (where, i)) for i, v in enumerate(items)]


def _number(value, where):
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        value = tolist()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TesseraInputError("a number is expected, got %s" % type(value).__name__, where=where)
    return value


def _matrix(value, where):
    tolist = getattr(value, "tolist", None)
    rows = tolist() if callable(tolist) else value
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, (list, tuple)) for r in rows):
        raise TesseraInputError("a matrix is a list of rows (or a 2-D array)", where=where)
    return [[_number(x, "%s[%d][%d]" % (where, i, j)) for j, x in enumerate(r)] for i, r in enumerate(rows)]


def _strings(values, where):
    # A bare string is iterable too; read as a set of characters it would silently be wrong.
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise TesseraInputError("a list of strings is expected, e.g. [\"a\", \"b\"]", where=where)
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise TesseraInputError("an item is a string, got %s" % type(v).__name__, where="%s[%d]" % (where, i))
        out.append(v)
    return out


def _pairs(pairs, where, item):
    out = []
    for i, pair in enumerate(pairs):
        pair = pair.tolist() if callable(getattr(pair, "tolist", None)) else pair
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TesseraInputError("a pair [x, y] is expected", where="%s[%d]" % (where, i))
        out.append([item(pair[0], "%s[%d][0]" % (where, i)), item(pair[1], "%s[%d][1]" % (where, i))])
    return out


def _string(value, where):
    if not isinstance(value, str):
        raise TesseraInputError("a string is expected, got %s" % type(value).__name__, where=where)
    return value


# ---- results, as SIMON defines them (openapi.yaml's result schemas) ------------------------------

class SecureSumResult(TypedDict):
    samples: int
    sum: float


class MatrixProductResult(TypedDict):
    product: List[List[float]]


class MedianResult(TypedDict):
    median: float


class KthElementResult(TypedDict):
    item: Number
    samples: int


class MinimumMaximumResult(TypedDict):
    minimum: Number
    maximum: Number
    samples: int


class SetIntersectionResult(TypedDict):
    intersection: List[str]
    size_intersection: int


class SetIntersectionSizeResult(TypedDict):
    size_intersection: int


# 22 statistics, each a float or None where undefined (e.g. variance of one sample).
UnivariateResult = Dict[str, Optional[float]]


class BivariateResult(TypedDict):
    samples: float
    covariance: Optional[float]
    covariance_mle: Optional[float]
    correlation_coefficient: Optional[float]
    regression_slope: Optional[float]
    regression_interceipt: Optional[float]  # FSC's spelling: it is the wire contract
    regression_slope_only: Optional[float]


class FrequencyResult(TypedDict):
    histogram: Dict[str, float]
    mode: Optional[str]


class ContingencyResult(TypedDict):
    table: Dict[str, Dict[str, float]]
    mode: List[str]


class RegressionResult(TypedDict):
    mle: List[List[float]]


# ---- the thirteen microprotocols -----------------------------------------------------------------

def secure_sum(data, network, api=None, token=None, timeout=DEFAULT_TIMEOUT) -> SecureSumResult:
    """The sum of every party's number (or list of numbers); `samples` counts the numbers."""
    return _result("SecureSum", _sum_data(data), network, api, token, timeout)


def _sum_data(data):
    # SIMON reads a list item by item, and an item may itself be a list of numbers (summed).
    tolist = getattr(data, "tolist", None)
    data = tolist() if callable(tolist) else data
    if isinstance(data, (list, tuple)):
        return [_numbers(item, "data[%d]" % i) if isinstance(item, (list, tuple)) else _number(item, "data[%d]" % i)
                for i, item in enumerate(data)]
    return _number(data, "data")


def secure_matrix_multiplication(matrix: Matrix, network, api=None, token=None,
                                 timeout=DEFAULT_TIMEOUT) -> MatrixProductResult:
    """Two parties: X·Y, party 0 giving X (p×n), party 1 giving Y (n×q); both get the product."""
    return _result("SecureMatrixMultiplication", [_matrix(matrix, "data[0]")], network, api, token, timeout)


def secure_median(values: Iterable[Number], network, api=None, token=None, timeout=DEFAULT_TIMEOUT) -> MedianResult:
    """The median of all parties' numbers together."""
    return _result("SecureMedian", _numbers(values, "data"), network, api, token, timeout)


def kth_element(values: Iterable[Number], rank: int, lower_bound: Number, upper_bound: Number, network,
                api=None, token=None, timeout=DEFAULT_TIMEOUT) -> KthElementResult:
    """The rank-th smallest (from 1) of all parties' numbers, which lie in [lower_bound, upper_bound];
    rank and bounds are the same at every party."""
    record = {"array": _numbers(values, "data.array"),
              "rank": _number(rank, "data.rank"), "lower_bound": _number(lower_bound, "data.lower_bound"),
              "upper_bound": _number(upper_bound, "data.upper_bound")}
    return _result("KthElement", record, network, api, token, timeout)


def minimum_maximum(records, network, api=None, token=None, timeout=DEFAULT_TIMEOUT) -> MinimumMaximumResult:
    """The least `minimum` and greatest `maximum` over all records {"minimum": a, "maximum": b}
    (one record or a list); `samples` counts the records."""
    single = isinstance(records, Mapping)
    items = [records] if single else list(records)
    data = [{"minimum": _number(r.get("minimum"), "data[%d].minimum" % i),
             "maximum": _number(r.get("maximum"), "data[%d].maximum" % i)} for i, r in enumerate(items)]
    return _result("MinimumMaximum", data[0] if single else data, network, api, token, timeout)


def set_intersection(items: Iterable[str], network, api=None, token=None,
                     timeout=DEFAULT_TIMEOUT) -> SetIntersectionResult:
    """The strings every party holds (this party's set is `items`)."""
    return _result("SetIntersection", [_strings(items, "data[0]")], network, api, token, timeout)


def set_intersection_size(items: Iterable[str], network, api=None, token=None,
                          timeout=DEFAULT_TIMEOUT) -> SetIntersectionSizeResult:
    """How many strings every party holds."""
    return _result("SetIntersectionSize", [_strings(items, "data[0]")], network, api, token, timeout)


def statistics_univariate(values: Iterable[Number], network, api=None, token=None,
                          timeout=DEFAULT_TIMEOUT) -> UnivariateResult:
    """22 statistics of all parties' numbers together (mean, variance, skewness, ...)."""
    return _result("StatisticsUnivariate", _numbers(values, "data"), network, api, token, timeout)


def statistics_bivariate(pairs: Iterable[Tuple[Number, Number]], network, api=None, token=None,
                         timeout=DEFAULT_TIMEOUT) -> BivariateResult:
    """Covariance, correlation and regression of all parties' (x, y) pairs together."""
    return _result("StatisticsBivariate", _pairs(pairs, "data", _number), network, api, token, timeout)


def statistics_frequency(items: Iterable[str], network, api=None, token=None,
                         timeout=DEFAULT_TIMEOUT) -> FrequencyResult:
    """The histogram of all parties' items, and its mode."""
    return _result("StatisticsFrequency", _strings(items, "data"), network, api, token, timeout)


def statistics_contingency(pairs: Iterable[Tuple[str, str]], network, api=None, token=None,
                           timeout=DEFAULT_TIMEOUT) -> ContingencyResult:
    """The contingency table of all parties' (x, y) category pairs, and its mode."""
    return _result("StatisticsContingency", _pairs(pairs, "data", _string), network, api, token, timeout)


def statistics_contingency_vertical(records: Iterable[Tuple[str, str]], network, api=None, token=None,
                                    timeout=DEFAULT_TIMEOUT) -> ContingencyResult:
    """Two parties holding different columns of the same records, joined on id: party 0's
    (id, category) pairs give the rows, party 1's the columns of the table."""
    return _result("StatisticsContingencyVertical", _pairs(records, "data", _string), network, api, token, timeout)


def statistics_regression_ols_vertical(columns, network, api=None, token=None,
                                       timeout=DEFAULT_TIMEOUT) -> RegressionResult:
    """Two parties: ordinary least squares β = (XᵀX)⁻¹Xᵀy, party 0 giving the N×p design
    matrix X (with a column of ones for an intercept), party 1 the N responses y."""
    tolist = getattr(columns, "tolist", None)
    rows = tolist() if callable(tolist) else list(columns)
    if rows and all(isinstance(r, (list, tuple)) for r in rows):
        data = [_matrix(rows, "data[0]")]
    else:
        data = [_numbers(rows, "data[0]")]
    return _result("StatisticsRegressionOLSVertical", data, network, api, token, timeout)


# Each microprotocol's wire name and its function, for code that picks one by name.
MICROPROTOCOLS = {
    "SecureSum": secure_sum,
    "SecureMatrixMultiplication": secure_matrix_multiplication,
    "SecureMedian": secure_median,
    "KthElement": kth_element,
    "MinimumMaximum": minimum_maximum,
    "SetIntersection": set_intersection,
    "SetIntersectionSize": set_intersection_size,
    "StatisticsUnivariate": statistics_univariate,
    "StatisticsBivariate": statistics_bivariate,
    "StatisticsFrequency": statistics_frequency,
    "StatisticsContingency": statistics_contingency,
    "StatisticsContingencyVertical": statistics_contingency_vertical,
    "StatisticsRegressionOLSVertical": statistics_regression_ols_vertical,
}

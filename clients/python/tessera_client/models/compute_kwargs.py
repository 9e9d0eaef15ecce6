# coding: utf-8

"""
    Tessera party server API

    One party's Tessera server. Several organisations each run one, next to their private data. The servers compute jointly (a sum, the weighted average of federated-learning models) peer-to-peer on secret shares and masked values: every party learns the agreed result and nothing else about the others' inputs. A party's own programs talk only to their own server, through the client API below.  ## The representation model  The client API (tag `representations`) is the generic representation API of Federated Secure Computing v0.6, answered exactly so: unmodified clients of that API work against Tessera. The server holds *representations*, server-side objects named by a UUID: a microservice, a member of one, an uploaded value, a result. A client  1. **creates** a representation of a microservice by matching its description    (`POST /representations`), or of a value by uploading it (`PUT /representations`); 2. takes an **attribute** of it, such as the member `compute` (`GET /representation/{uuid}/compute`); 3. **calls** that (`PATCH /representation/{uuid}` with `{\"args\": [...], \"kwargs\": {...}}`); the    result is a new representation; 4. **downloads** a result (`GET /representation/{uuid}`: `{\"type\": \"object\", \"object\": ...}`); 5. **releases** every representation it made (`DELETE /representation/{uuid}`).  An argument `{\"representation_uuid\": \"...\"}` stands for the object that representation names (an uploaded model, say). Clients of the v0.6 API send a JSON body `{}` with GET and DELETE; it is accepted.  ## Walk-through: a SecureSum of 19, 5 and 61  Three parties run a server each (`npx tessera serve --port 55501`, `55502`, `55503`). Each party's client talks to its own server; party 0 does:  | step | request | answer | |---|---|---| | create | `POST /representations` `{\"args\": [], \"kwargs\": {\"protocol\": \"Simon\"}}` | `{\"type\": \"uuid\", \"uuid\": S}` | | attribute | `GET /representation/S/compute` | `{\"type\": \"uuid\", \"uuid\": C}` | | call | `PATCH /representation/C` with the body below | `{\"type\": \"uuid\", \"uuid\": R}`, once all three have called | | download | `GET /representation/R` | `{\"type\": \"object\", \"object\": {\"inputs\": 3, \"result\": {\"samples\": 3, \"sum\": 85}}}` | | release | `DELETE /representation/R`, then C and S | `{\"type\": \"none\"}` |  ```json {\"args\": [], \"kwargs\": {\"microprotocol\": \"SecureSum\", \"data\": 19,   \"network\": {\"nodes\": [\"http://127.0.0.1:55501\", \"http://127.0.0.1:55502\", \"http://127.0.0.1:55503\"],               \"uuid\": \"a7f4fea2-b5f4-4d64-9705-45b3629a8145\", \"myself\": 0}}} ```  Party 1 sends `\"data\": 5, \"myself\": 1` to its server, party 2 `\"data\": 61, \"myself\": 2`, with the same `nodes` and `uuid`. Each call returns when the sum is known (within the servers' stage timeout, 30 s by default); every party gets 85, and no server sees another party's secret. The same `uuid` may be reused for the next computation of the same parties.  ## Microprotocols  The `Simon` microservice (`{\"protocol\": \"Simon\"}`) has two members. `compute` takes `ComputeKwargs` as its keyword arguments:  | `microprotocol` | `data` | the result downloads as | |---|---|---| | `SecureSum` | `SecureSumInput`: a number, or a list of numbers | `SecureSumResult` | | `SecureFedAvg` | `SecureFedAvgInput`: `{\"tensors\": model, \"weight\": n_k}` | `SecureFedAvgResult`, or a safetensors file | | `PlainFedAvg` | as SecureFedAvg | as SecureFedAvg. **INSECURE baseline**: no masks, each party's scaled model travels in clear; for benchmarks only, never for private models |  `prepare` (`PrepareKwargs`) announces a SecureFedAvg or PlainFedAvg before the model exists: the parties agree on the tensors and prepare the masks while training runs. It returns a prepared computation whose member `submit` (`SubmitKwargs`) gives the model and weight and returns the result; `status` and `cancel` are members too.  Other SIMON microprotocols (statistics, min/max, median, set intersection, ...) answer 501.  ## Other surfaces  - **Peer API** (tag `peer`): server to server only. Parties' servers exchange sealed   envelopes of running computations; clients never call it. - **Operations** (tag `operations`): health, this document, the Swagger UI.  ## Authentication  With a client token configured (`tessera serve --token-file <file>`, or `TESSERA_TOKEN`), every request of the client API carries `Authorization: Bearer <token>` (\"Authorize\" in the Swagger UI); otherwise it answers 401. A server that binds beyond loopback demands a token unless started with `--unauthenticated-clients`. The peer API and the operations take no token: peer envelopes carry their own authentication.  ## Errors  Every error is an RFC 9457 `application/problem+json` document with `type`, `title`, `status` and `detail`; also `code` and `message` (the same as `status` and `detail`), which v0.6 clients read, and `where`: the field, tensor or party at fault. `type` is a relative URI reference `/problems/<slug>` (RFC 9457 §3.1.1), one of `bad-input`, `unauthenticated`, `forbidden`, `not-found`, `method-not-allowed`, `not-acceptable`, `conflict`, `too-large`, `unsupported-media-type`, `limit-reached`, `internal`, `not-implemented`, `peer-failed`, `timeout`. Compare it as a string; it is not meant to be fetched.   # noqa: E501

    OpenAPI spec version: 0.1.0
    
    Generated by: https://github.com/swagger-api/swagger-codegen.git
"""

import pprint
import re  # noqa: F401

import six

class ComputeKwargs(object):
    """NOTE: This class is auto generated by the swagger code generator program.

    Do not edit the class manually.
    """
    """
    Attributes:
      swagger_types (dict): The key is attribute name
                            and the value is attribute type.
      attribute_map (dict): The key is attribute name
                            and the value is json key in definition.
    """
    swagger_types = {
        'microprotocol': 'str',
        'data': 'object',
        'network': 'Network',
        'ring_bits': 'int',
        'frac_bits': 'int',
        'min_parties': 'int',
        'max_weight': 'float',
        'rescue': 'str',
        'mask_graph': 'str',
        'mask_sparse_from': 'int',
        'mask_coalition': 'float',
        'mask_failure_bits': 'int',
        'max_set_size': 'int'
    }

    attribute_map = {
        'microprotocol': 'microprotocol',
        'data': 'data',
        'network': 'network',
        'ring_bits': 'ring_bits',
        'frac_bits': 'frac_bits',
        'min_parties': 'min_parties',
        'max_weight': 'max_weight',
        'rescue': 'rescue',
        'mask_graph': 'mask_graph',
        'mask_sparse_from': 'mask_sparse_from',
        'mask_coalition': 'mask_coalition',
        'mask_failure_bits': 'mask_failure_bits',
        'max_set_size': 'max_set_size'
    }

    def __init__(self, microprotocol=None, data=None, network=None, ring_bits=None, frac_bits=None, min_parties=None, max_weight=None, rescue=None, mask_graph=None, mask_sparse_from=None, mask_coalition=None, mask_failure_bits=None, max_set_size=None):  # noqa: E501
        """ComputeKwargs - a model defined in Swagger"""  # noqa: E501
        self._microprotocol = None
        self._data = None
        self._network = None
        self._ring_bits = None
        self._frac_bits = None
        self._min_parties = None
        self._max_weight = None
        self._rescue = None
        self._mask_graph = None
        self._mask_sparse_from = None
        self._mask_coalition = None
        self._mask_failure_bits = None
        self._max_set_size = None
        self.discriminator = None
        self.microprotocol = microprotocol
        self.data = data
        self.network = network
        if ring_bits is not None:
            self.ring_bits = ring_bits
        if frac_bits is not None:
            self.frac_bits = frac_bits
        if min_parties is not None:
            self.min_parties = min_parties
        if max_weight is not None:
            self.max_weight = max_weight
        if rescue is not None:
            self.rescue = rescue
        if mask_graph is not None:
            self.mask_graph = mask_graph
        if mask_sparse_from is not None:
            self.mask_sparse_from = mask_sparse_from
        if mask_coalition is not None:
            self.mask_coalition = mask_coalition
        if mask_failure_bits is not None:
            self.mask_failure_bits = mask_failure_bits
        if max_set_size is not None:
            self.max_set_size = max_set_size

    @property
    def microprotocol(self):
        """Gets the microprotocol of this ComputeKwargs.  # noqa: E501

        SecureSum, SecureFedAvg or PlainFedAvg (INSECURE baseline).  # noqa: E501

        :return: The microprotocol of this ComputeKwargs.  # noqa: E501
        :rtype: str
        """
        return self._microprotocol

    @microprotocol.setter
    def microprotocol(self, microprotocol):
        """Sets the microprotocol of this ComputeKwargs.

        SecureSum, SecureFedAvg or PlainFedAvg (INSECURE baseline).  # noqa: E501

        :param microprotocol: The microprotocol of this ComputeKwargs.  # noqa: E501
        :type: str
        """
        if microprotocol is None:
            raise ValueError("Invalid value for `microprotocol`, must not be `None`")  # noqa: E501

        self._microprotocol = microprotocol

    @property
    def data(self):
        """Gets the data of this ComputeKwargs.  # noqa: E501

        This party's input, any JSON value; what it must be depends on `microprotocol` (the table above): `SecureSumInput`, `SecureFedAvgInput` (SecureFedAvg, PlainFedAvg), `StatisticsUnivariateInput`, `StatisticsBivariateInput`, `StatisticsFrequencyInput`, `StatisticsContingencyInput`, `SecureMedianInput`, `KthElementInput`, `MinimumMaximumInput`, `SetIntersectionInput` (SetIntersection, SetIntersectionSize), `StatisticsContingencyVerticalInput`, `SecureMatrixMultiplicationInput` or `StatisticsRegressionOLSVerticalInput`. A bad one is a 400 naming the field (`kwargs.data[1]`).   # noqa: E501

        :return: The data of this ComputeKwargs.  # noqa: E501
        :rtype: object
        """
        return self._data

    @data.setter
    def data(self, data):
        """Sets the data of this ComputeKwargs.

        This party's input, any JSON value; what it must be depends on `microprotocol` (the table above): `SecureSumInput`, `SecureFedAvgInput` (SecureFedAvg, PlainFedAvg), `StatisticsUnivariateInput`, `StatisticsBivariateInput`, `StatisticsFrequencyInput`, `StatisticsContingencyInput`, `SecureMedianInput`, `KthElementInput`, `MinimumMaximumInput`, `SetIntersectionInput` (SetIntersection, SetIntersectionSize), `StatisticsContingencyVerticalInput`, `SecureMatrixMultiplicationInput` or `StatisticsRegressionOLSVerticalInput`. A bad one is a 400 naming the field (`kwargs.data[1]`).   # noqa: E501

        :param data: The data of this ComputeKwargs.  # noqa: E501
        :type: object
        """
        if data is None:
            raise ValueError("Invalid value for `data`, must not be `None`")  # noqa: E501

        self._data = data

    @property
    def network(self):
        """Gets the network of this ComputeKwargs.  # noqa: E501


        :return: The network of this ComputeKwargs.  # noqa: E501
        :rtype: Network
        """
        return self._network

    @network.setter
    def network(self, network):
        """Sets the network of this ComputeKwargs.


        :param network: The network of this ComputeKwargs.  # noqa: E501
        :type: Network
        """
        if network is None:
            raise ValueError("Invalid value for `network`, must not be `None`")  # noqa: E501

        self._network = network

    @property
    def ring_bits(self):
        """Gets the ring_bits of this ComputeKwargs.  # noqa: E501

        SecureFedAvg only: the ring Z_2^k the masked values live in, 64 (default), 48, 40 or 32. A party sends k/8 bytes per parameter in the reduce stage, so a narrower ring costs less bandwidth for a smaller range: the largest |value| accepted is 2^(k−1−frac_bits) − 1 (default frac_bits 32, 32, 24, 20: ranges 2147483647, 32767, 32767, 2047). Every party must pass the same value.   # noqa: E501

        :return: The ring_bits of this ComputeKwargs.  # noqa: E501
        :rtype: int
        """
        return self._ring_bits

    @ring_bits.setter
    def ring_bits(self, ring_bits):
        """Sets the ring_bits of this ComputeKwargs.

        SecureFedAvg only: the ring Z_2^k the masked values live in, 64 (default), 48, 40 or 32. A party sends k/8 bytes per parameter in the reduce stage, so a narrower ring costs less bandwidth for a smaller range: the largest |value| accepted is 2^(k−1−frac_bits) − 1 (default frac_bits 32, 32, 24, 20: ranges 2147483647, 32767, 32767, 2047). Every party must pass the same value.   # noqa: E501

        :param ring_bits: The ring_bits of this ComputeKwargs.  # noqa: E501
        :type: int
        """
        allowed_values = [32, 40, 48, 64]  # noqa: E501
        if ring_bits not in allowed_values:
            raise ValueError(
                "Invalid value for `ring_bits` ({0}), must be one of {1}"  # noqa: E501
                .format(ring_bits, allowed_values)
            )

        self._ring_bits = ring_bits

    @property
    def frac_bits(self):
        """Gets the frac_bits of this ComputeKwargs.  # noqa: E501

        SecureFedAvg only: fraction bits f of the fixed-point encoding (default 32 with a 64- or 48-bit ring, 24 with 40 bits, 20 with 32 bits), at most ring_bits − 2. Values must stay within ±(2^(k−1−f) − 1); the average is within n·2^-(f+1) of the exact one.   # noqa: E501

        :return: The frac_bits of this ComputeKwargs.  # noqa: E501
        :rtype: int
        """
        return self._frac_bits

    @frac_bits.setter
    def frac_bits(self, frac_bits):
        """Sets the frac_bits of this ComputeKwargs.

        SecureFedAvg only: fraction bits f of the fixed-point encoding (default 32 with a 64- or 48-bit ring, 24 with 40 bits, 20 with 32 bits), at most ring_bits − 2. Values must stay within ±(2^(k−1−f) − 1); the average is within n·2^-(f+1) of the exact one.   # noqa: E501

        :param frac_bits: The frac_bits of this ComputeKwargs.  # noqa: E501
        :type: int
        """

        self._frac_bits = frac_bits

    @property
    def min_parties(self):
        """Gets the min_parties of this ComputeKwargs.  # noqa: E501

        SecureFedAvg and PlainFedAvg: the fewest parties the round may finish with (default: all of them; SecureFedAvg needs more than half of the parties). A party that never arrives, cannot be reached or stalls past the stage timeout during setup is left out by one restart among the others with fresh masks. SecureFedAvg with min_parties below the party count also survives a party that drops after its masked model was sent (double masking, docs/dropouts.md): the parties decide who is included before anything is unmasked. Every remaining party gets the weighted average over the remaining parties; the result's metadata names them (`tessera.included`, `tessera.dropped`). Fewer than min_parties left: a 504 naming every missing party (problem `extra.missing` lists their indices). A party holding a segment of the average that drops after the decision ends the round with a 504 naming it. Every party must pass the same value.   # noqa: E501

        :return: The min_parties of this ComputeKwargs.  # noqa: E501
        :rtype: int
        """
        return self._min_parties

    @min_parties.setter
    def min_parties(self, min_parties):
        """Sets the min_parties of this ComputeKwargs.

        SecureFedAvg and PlainFedAvg: the fewest parties the round may finish with (default: all of them; SecureFedAvg needs more than half of the parties). A party that never arrives, cannot be reached or stalls past the stage timeout during setup is left out by one restart among the others with fresh masks. SecureFedAvg with min_parties below the party count also survives a party that drops after its masked model was sent (double masking, docs/dropouts.md): the parties decide who is included before anything is unmasked. Every remaining party gets the weighted average over the remaining parties; the result's metadata names them (`tessera.included`, `tessera.dropped`). Fewer than min_parties left: a 504 naming every missing party (problem `extra.missing` lists their indices). A party holding a segment of the average that drops after the decision ends the round with a 504 naming it. Every party must pass the same value.   # noqa: E501

        :param min_parties: The min_parties of this ComputeKwargs.  # noqa: E501
        :type: int
        """

        self._min_parties = min_parties

    @property
    def max_weight(self):
        """Gets the max_weight of this ComputeKwargs.  # noqa: E501

        SecureFedAvg with min_parties below the party count: the public scale Q of the weights (default 65536). Each party scales its model by weight/Q (the total weight of the included parties is known only after they are decided), so a weight above it is a 400 naming `kwargs.data.weight`, and the average is within n·2^-(f+1)·Q/N of the exact one (N the included parties' total weight). Every party must pass the same value.   # noqa: E501

        :return: The max_weight of this ComputeKwargs.  # noqa: E501
        :rtype: float
        """
        return self._max_weight

    @max_weight.setter
    def max_weight(self, max_weight):
        """Sets the max_weight of this ComputeKwargs.

        SecureFedAvg with min_parties below the party count: the public scale Q of the weights (default 65536). Each party scales its model by weight/Q (the total weight of the included parties is known only after they are decided), so a weight above it is a 400 naming `kwargs.data.weight`, and the average is within n·2^-(f+1)·Q/N of the exact one (N the included parties' total weight). Every party must pass the same value.   # noqa: E501

        :param max_weight: The max_weight of this ComputeKwargs.  # noqa: E501
        :type: float
        """

        self._max_weight = max_weight

    @property
    def rescue(self):
        """Gets the rescue of this ComputeKwargs.  # noqa: E501

        SecureFedAvg with min_parties below the party count: what survives a party that holds a segment of the average and drops after the included parties are decided (the average is not known yet). `backup` (default): each party also sends its contribution to its own segment to the next party, so such a segment is rebuilt without its holder; this costs 1/n of the model in bytes per party (1.33× the default round's bytes at 3 parties, 1.17× at 5). `none`: no backup, the bytes of the default round; a party dropping before the decision is survived as with `backup`, but a holder dropping after it ends the round at every party with a 504 naming it (unless its segment already reached another included party, which then forwards it). Nothing is unmasked for a second set either way (docs/dropouts.md). Every party must pass the same value.   # noqa: E501

        :return: The rescue of this ComputeKwargs.  # noqa: E501
        :rtype: str
        """
        return self._rescue

    @rescue.setter
    def rescue(self, rescue):
        """Sets the rescue of this ComputeKwargs.

        SecureFedAvg with min_parties below the party count: what survives a party that holds a segment of the average and drops after the included parties are decided (the average is not known yet). `backup` (default): each party also sends its contribution to its own segment to the next party, so such a segment is rebuilt without its holder; this costs 1/n of the model in bytes per party (1.33× the default round's bytes at 3 parties, 1.17× at 5). `none`: no backup, the bytes of the default round; a party dropping before the decision is survived as with `backup`, but a holder dropping after it ends the round at every party with a 504 naming it (unless its segment already reached another included party, which then forwards it). Nothing is unmasked for a second set either way (docs/dropouts.md). Every party must pass the same value.   # noqa: E501

        :param rescue: The rescue of this ComputeKwargs.  # noqa: E501
        :type: str
        """
        allowed_values = ["backup", "none"]  # noqa: E501
        if rescue not in allowed_values:
            raise ValueError(
                "Invalid value for `rescue` ({0}), must be one of {1}"  # noqa: E501
                .format(rescue, allowed_values)
            )

        self._rescue = rescue

    @property
    def mask_graph(self):
        """Gets the mask_graph of this ComputeKwargs.  # noqa: E501

        SecureFedAvg: which pairs of parties mask each other. `full`: every pair (a coalition of up to n−1 parties learns nothing beyond the average). `sparse`: each party masks with k = O(log n) neighbours of a random graph all parties derive alike (SecAgg+, Bell et al., CCS 2020; k is agreed in the terms, e.g. 26 of 99 at 100 parties), which holds against any coalition of at most a third of the parties except with probability at most 2^-40 (docs/sparse-masks.md). `auto` (default): `sparse` from 64 parties on. The round with min_parties below the party count sizes k for its dropout budget (n − min_parties) as well: the honest parties that remain must stay connected with the coalition and the dropped parties gone, so k grows with the budget. Every party must pass the same value.   # noqa: E501

        :return: The mask_graph of this ComputeKwargs.  # noqa: E501
        :rtype: str
        """
        return self._mask_graph

    @mask_graph.setter
    def mask_graph(self, mask_graph):
        """Sets the mask_graph of this ComputeKwargs.

        SecureFedAvg: which pairs of parties mask each other. `full`: every pair (a coalition of up to n−1 parties learns nothing beyond the average). `sparse`: each party masks with k = O(log n) neighbours of a random graph all parties derive alike (SecAgg+, Bell et al., CCS 2020; k is agreed in the terms, e.g. 26 of 99 at 100 parties), which holds against any coalition of at most a third of the parties except with probability at most 2^-40 (docs/sparse-masks.md). `auto` (default): `sparse` from 64 parties on. The round with min_parties below the party count sizes k for its dropout budget (n − min_parties) as well: the honest parties that remain must stay connected with the coalition and the dropped parties gone, so k grows with the budget. Every party must pass the same value.   # noqa: E501

        :param mask_graph: The mask_graph of this ComputeKwargs.  # noqa: E501
        :type: str
        """
        allowed_values = ["auto", "full", "sparse"]  # noqa: E501
        if mask_graph not in allowed_values:
            raise ValueError(
                "Invalid value for `mask_graph` ({0}), must be one of {1}"  # noqa: E501
                .format(mask_graph, allowed_values)
            )

        self._mask_graph = mask_graph

    @property
    def mask_sparse_from(self):
        """Gets the mask_sparse_from of this ComputeKwargs.  # noqa: E501

        SecureFedAvg: from how many parties on `mask_graph: auto` masks with the sparse graph (default 64; 257 = never). Every party must pass the same value.   # noqa: E501

        :return: The mask_sparse_from of this ComputeKwargs.  # noqa: E501
        :rtype: int
        """
        return self._mask_sparse_from

    @mask_sparse_from.setter
    def mask_sparse_from(self, mask_sparse_from):
        """Sets the mask_sparse_from of this ComputeKwargs.

        SecureFedAvg: from how many parties on `mask_graph: auto` masks with the sparse graph (default 64; 257 = never). Every party must pass the same value.   # noqa: E501

        :param mask_sparse_from: The mask_sparse_from of this ComputeKwargs.  # noqa: E501
        :type: int
        """

        self._mask_sparse_from = mask_sparse_from

    @property
    def mask_coalition(self):
        """Gets the mask_coalition of this ComputeKwargs.  # noqa: E501

        SecureFedAvg with the sparse graph: the coalition γ the graph is sized against, as a fraction of the parties (default 1/3: coalitions of ⌊n/3⌋). Larger means a larger k. Below 1/2, so that the dropout round's Shamir threshold (more than half of the parties) stays above the coalition (docs/sparse-masks.md). Every party must pass the same value.   # noqa: E501

        :return: The mask_coalition of this ComputeKwargs.  # noqa: E501
        :rtype: float
        """
        return self._mask_coalition

    @mask_coalition.setter
    def mask_coalition(self, mask_coalition):
        """Sets the mask_coalition of this ComputeKwargs.

        SecureFedAvg with the sparse graph: the coalition γ the graph is sized against, as a fraction of the parties (default 1/3: coalitions of ⌊n/3⌋). Larger means a larger k. Below 1/2, so that the dropout round's Shamir threshold (more than half of the parties) stays above the coalition (docs/sparse-masks.md). Every party must pass the same value.   # noqa: E501

        :param mask_coalition: The mask_coalition of this ComputeKwargs.  # noqa: E501
        :type: float
        """

        self._mask_coalition = mask_coalition

    @property
    def mask_failure_bits(self):
        """Gets the mask_failure_bits of this ComputeKwargs.  # noqa: E501

        SecureFedAvg with the sparse graph: the graph leaves the honest parties connected except with probability at most 2^-mask_failure_bits (default 40). Every party must pass the same value.   # noqa: E501

        :return: The mask_failure_bits of this ComputeKwargs.  # noqa: E501
        :rtype: int
        """
        return self._mask_failure_bits

    @mask_failure_bits.setter
    def mask_failure_bits(self, mask_failure_bits):
        """Sets the mask_failure_bits of this ComputeKwargs.

        SecureFedAvg with the sparse graph: the graph leaves the honest parties connected except with probability at most 2^-mask_failure_bits (default 40). Every party must pass the same value.   # noqa: E501

        :param mask_failure_bits: The mask_failure_bits of this ComputeKwargs.  # noqa: E501
        :type: int
        """

        self._mask_failure_bits = mask_failure_bits

    @property
    def max_set_size(self):
        """Gets the max_set_size of this ComputeKwargs.  # noqa: E501

        SetIntersection and SetIntersectionSize: a public bound B on every party's set size. Each party pads its list with dummy elements to exactly B, so no party learns another's set size (only that it is at most B); the cost grows with B instead of the sizes. A set larger than B is a 400 naming `kwargs.data` at its party. Every party must pass the same value (409 otherwise). Without it, every party learns every set's size.   # noqa: E501

        :return: The max_set_size of this ComputeKwargs.  # noqa: E501
        :rtype: int
        """
        return self._max_set_size

    @max_set_size.setter
    def max_set_size(self, max_set_size):
        """Sets the max_set_size of this ComputeKwargs.

        SetIntersection and SetIntersectionSize: a public bound B on every party's set size. Each party pads its list with dummy elements to exactly B, so no party learns another's set size (only that it is at most B); the cost grows with B instead of the sizes. A set larger than B is a 400 naming `kwargs.data` at its party. Every party must pass the same value (409 otherwise). Without it, every party learns every set's size.   # noqa: E501

        :param max_set_size: The max_set_size of this ComputeKwargs.  # noqa: E501
        :type: int
        """

        self._max_set_size = max_set_size

    def to_dict(self):
        """Returns the model properties as a dict"""
        result = {}

        for attr, _ in six.iteritems(self.swagger_types):
            value = getattr(self, attr)
            if isinstance(value, list):
                result[attr] = list(map(
                    lambda x: x.to_dict() if hasattr(x, "to_dict") else x,
                    value
                ))
            elif hasattr(value, "to_dict"):
                result[attr] = value.to_dict()
            elif isinstance(value, dict):
                result[attr] = dict(map(
                    lambda item: (item[0], item[1].to_dict())
                    if hasattr(item[1], "to_dict") else item,
                    value.items()
                ))
            else:
                result[attr] = value
        if issubclass(ComputeKwargs, dict):
            for key, value in self.items():
                result[key] = value

        return result

    def to_str(self):
        """Returns the string representation of the model"""
        return pprint.pformat(self.to_dict())

    def __repr__(self):
        """For `print` and `pprint`"""
        return self.to_str()

    def __eq__(self, other):
        """Returns true if both objects are equal"""
        if not isinstance(other, ComputeKwargs):
            return False

        return self.__dict__ == other.__dict__

    def __ne__(self, other):
        """Returns true if both objects are not equal"""
        return not self == other

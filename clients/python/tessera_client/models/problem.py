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

class Problem(object):
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
        'type': 'str',
        'title': 'str',
        'status': 'int',
        'detail': 'str',
        'instance': 'str',
        'code': 'int',
        'message': 'str',
        'where': 'str',
        'missing': 'list[int]',
        'errors': 'list[ProblemErrors]'
    }

    attribute_map = {
        'type': 'type',
        'title': 'title',
        'status': 'status',
        'detail': 'detail',
        'instance': 'instance',
        'code': 'code',
        'message': 'message',
        'where': 'where',
        'missing': 'missing',
        'errors': 'errors'
    }

    def __init__(self, type=None, title=None, status=None, detail=None, instance=None, code=None, message=None, where=None, missing=None, errors=None):  # noqa: E501
        """Problem - a model defined in Swagger"""  # noqa: E501
        self._type = None
        self._title = None
        self._status = None
        self._detail = None
        self._instance = None
        self._code = None
        self._message = None
        self._where = None
        self._missing = None
        self._errors = None
        self.discriminator = None
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        if instance is not None:
            self.instance = instance
        self.code = code
        self.message = message
        if where is not None:
            self.where = where
        if missing is not None:
            self.missing = missing
        if errors is not None:
            self.errors = errors

    @property
    def type(self):
        """Gets the type of this Problem.  # noqa: E501

        The kind of problem: a relative URI reference `/problems/<slug>` (RFC 9457 §3.1.1), such as `/problems/bad-input`. Compare it as a string.   # noqa: E501

        :return: The type of this Problem.  # noqa: E501
        :rtype: str
        """
        return self._type

    @type.setter
    def type(self, type):
        """Sets the type of this Problem.

        The kind of problem: a relative URI reference `/problems/<slug>` (RFC 9457 §3.1.1), such as `/problems/bad-input`. Compare it as a string.   # noqa: E501

        :param type: The type of this Problem.  # noqa: E501
        :type: str
        """
        if type is None:
            raise ValueError("Invalid value for `type`, must not be `None`")  # noqa: E501

        self._type = type

    @property
    def title(self):
        """Gets the title of this Problem.  # noqa: E501


        :return: The title of this Problem.  # noqa: E501
        :rtype: str
        """
        return self._title

    @title.setter
    def title(self, title):
        """Sets the title of this Problem.


        :param title: The title of this Problem.  # noqa: E501
        :type: str
        """
        if title is None:
            raise ValueError("Invalid value for `title`, must not be `None`")  # noqa: E501

        self._title = title

    @property
    def status(self):
        """Gets the status of this Problem.  # noqa: E501


        :return: The status of this Problem.  # noqa: E501
        :rtype: int
        """
        return self._status

    @status.setter
    def status(self, status):
        """Sets the status of this Problem.


        :param status: The status of this Problem.  # noqa: E501
        :type: int
        """
        if status is None:
            raise ValueError("Invalid value for `status`, must not be `None`")  # noqa: E501

        self._status = status

    @property
    def detail(self):
        """Gets the detail of this Problem.  # noqa: E501


        :return: The detail of this Problem.  # noqa: E501
        :rtype: str
        """
        return self._detail

    @detail.setter
    def detail(self, detail):
        """Sets the detail of this Problem.


        :param detail: The detail of this Problem.  # noqa: E501
        :type: str
        """
        if detail is None:
            raise ValueError("Invalid value for `detail`, must not be `None`")  # noqa: E501

        self._detail = detail

    @property
    def instance(self):
        """Gets the instance of this Problem.  # noqa: E501

        The request path.  # noqa: E501

        :return: The instance of this Problem.  # noqa: E501
        :rtype: str
        """
        return self._instance

    @instance.setter
    def instance(self, instance):
        """Sets the instance of this Problem.

        The request path.  # noqa: E501

        :param instance: The instance of this Problem.  # noqa: E501
        :type: str
        """

        self._instance = instance

    @property
    def code(self):
        """Gets the code of this Problem.  # noqa: E501

        Same as status.  # noqa: E501

        :return: The code of this Problem.  # noqa: E501
        :rtype: int
        """
        return self._code

    @code.setter
    def code(self, code):
        """Sets the code of this Problem.

        Same as status.  # noqa: E501

        :param code: The code of this Problem.  # noqa: E501
        :type: int
        """
        if code is None:
            raise ValueError("Invalid value for `code`, must not be `None`")  # noqa: E501

        self._code = code

    @property
    def message(self):
        """Gets the message of this Problem.  # noqa: E501

        Same as detail.  # noqa: E501

        :return: The message of this Problem.  # noqa: E501
        :rtype: str
        """
        return self._message

    @message.setter
    def message(self, message):
        """Sets the message of this Problem.

        Same as detail.  # noqa: E501

        :param message: The message of this Problem.  # noqa: E501
        :type: str
        """
        if message is None:
            raise ValueError("Invalid value for `message`, must not be `None`")  # noqa: E501

        self._message = message

    @property
    def where(self):
        """Gets the where of this Problem.  # noqa: E501

        The field path, tensor name or party at fault.  # noqa: E501

        :return: The where of this Problem.  # noqa: E501
        :rtype: str
        """
        return self._where

    @where.setter
    def where(self, where):
        """Sets the where of this Problem.

        The field path, tensor name or party at fault.  # noqa: E501

        :param where: The where of this Problem.  # noqa: E501
        :type: str
        """

        self._where = where

    @property
    def missing(self):
        """Gets the missing of this Problem.  # noqa: E501

        A timeout (504) of a computation among parties: the indices into `network.nodes` of every party that did not arrive or send in time (as named in `where`), so a client can tell which parties to chase without parsing text.   # noqa: E501

        :return: The missing of this Problem.  # noqa: E501
        :rtype: list[int]
        """
        return self._missing

    @missing.setter
    def missing(self, missing):
        """Sets the missing of this Problem.

        A timeout (504) of a computation among parties: the indices into `network.nodes` of every party that did not arrive or send in time (as named in `where`), so a client can tell which parties to chase without parsing text.   # noqa: E501

        :param missing: The missing of this Problem.  # noqa: E501
        :type: list[int]
        """

        self._missing = missing

    @property
    def errors(self):
        """Gets the errors of this Problem.  # noqa: E501

        Each schema violation, with where it is.  # noqa: E501

        :return: The errors of this Problem.  # noqa: E501
        :rtype: list[ProblemErrors]
        """
        return self._errors

    @errors.setter
    def errors(self, errors):
        """Sets the errors of this Problem.

        Each schema violation, with where it is.  # noqa: E501

        :param errors: The errors of this Problem.  # noqa: E501
        :type: list[ProblemErrors]
        """

        self._errors = errors

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
        if issubclass(Problem, dict):
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
        if not isinstance(other, Problem):
            return False

        return self.__dict__ == other.__dict__

    def __ne__(self, other):
        """Returns true if both objects are not equal"""
        return not self == other

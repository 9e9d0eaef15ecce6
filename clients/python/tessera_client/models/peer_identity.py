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

class PeerIdentity(object):
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
        'public_key': 'str',
        'boot_id': 'str',
        'proof': 'str',
        'pair_proof': 'str'
    }

    attribute_map = {
        'public_key': 'publicKey',
        'boot_id': 'bootId',
        'proof': 'proof',
        'pair_proof': 'pairProof'
    }

    def __init__(self, public_key=None, boot_id=None, proof=None, pair_proof=None):  # noqa: E501
        """PeerIdentity - a model defined in Swagger"""  # noqa: E501
        self._public_key = None
        self._boot_id = None
        self._proof = None
        self._pair_proof = None
        self.discriminator = None
        self.public_key = public_key
        self.boot_id = boot_id
        if proof is not None:
            self.proof = proof
        if pair_proof is not None:
            self.pair_proof = pair_proof

    @property
    def public_key(self):
        """Gets the public_key of this PeerIdentity.  # noqa: E501

        The server's long-term public key.  # noqa: E501

        :return: The public_key of this PeerIdentity.  # noqa: E501
        :rtype: str
        """
        return self._public_key

    @public_key.setter
    def public_key(self, public_key):
        """Sets the public_key of this PeerIdentity.

        The server's long-term public key.  # noqa: E501

        :param public_key: The public_key of this PeerIdentity.  # noqa: E501
        :type: str
        """
        if public_key is None:
            raise ValueError("Invalid value for `public_key`, must not be `None`")  # noqa: E501

        self._public_key = public_key

    @property
    def boot_id(self):
        """Gets the boot_id of this PeerIdentity.  # noqa: E501

        Random per process start; a change tells peers the server restarted.  # noqa: E501

        :return: The boot_id of this PeerIdentity.  # noqa: E501
        :rtype: str
        """
        return self._boot_id

    @boot_id.setter
    def boot_id(self, boot_id):
        """Sets the boot_id of this PeerIdentity.

        Random per process start; a change tells peers the server restarted.  # noqa: E501

        :param boot_id: The boot_id of this PeerIdentity.  # noqa: E501
        :type: str
        """
        if boot_id is None:
            raise ValueError("Invalid value for `boot_id`, must not be `None`")  # noqa: E501

        self._boot_id = boot_id

    @property
    def proof(self):
        """Gets the proof of this PeerIdentity.  # noqa: E501

        With a network secret and a challenge, proof of knowing the secret (absent when `pairProof` is given, which proves the secret too).  # noqa: E501

        :return: The proof of this PeerIdentity.  # noqa: E501
        :rtype: str
        """
        return self._proof

    @proof.setter
    def proof(self, proof):
        """Sets the proof of this PeerIdentity.

        With a network secret and a challenge, proof of knowing the secret (absent when `pairProof` is given, which proves the secret too).  # noqa: E501

        :param proof: The proof of this PeerIdentity.  # noqa: E501
        :type: str
        """

        self._proof = proof

    @property
    def pair_proof(self):
        """Gets the pair_proof of this PeerIdentity.  # noqa: E501

        With a challenge and an `asker` this server may compute with, HMAC-SHA256 under a key only this server and the asker derive (X25519 of their keys), over both keys, the boot id and the challenge.   # noqa: E501

        :return: The pair_proof of this PeerIdentity.  # noqa: E501
        :rtype: str
        """
        return self._pair_proof

    @pair_proof.setter
    def pair_proof(self, pair_proof):
        """Sets the pair_proof of this PeerIdentity.

        With a challenge and an `asker` this server may compute with, HMAC-SHA256 under a key only this server and the asker derive (X25519 of their keys), over both keys, the boot id and the challenge.   # noqa: E501

        :param pair_proof: The pair_proof of this PeerIdentity.  # noqa: E501
        :type: str
        """

        self._pair_proof = pair_proof

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
        if issubclass(PeerIdentity, dict):
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
        if not isinstance(other, PeerIdentity):
            return False

        return self.__dict__ == other.__dict__

    def __ne__(self, other):
        """Returns true if both objects are not equal"""
        return not self == other

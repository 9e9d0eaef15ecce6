# coding: utf-8

"""
    Tessera party server API

    One party's Tessera server. Several organisations each run one, next to their private data. The servers compute jointly (a sum, the weighted average of federated-learning models) peer-to-peer on secret shares and masked values: every party learns the agreed result and nothing else about the others' inputs. A party's own programs talk only to their own server, through the client API below.  ## The representation model  The client API (tag `representations`) is the generic representation API of Federated Secure Computing v0.6, answered exactly so: unmodified clients of that API work against Tessera. The server holds *representations*, server-side objects named by a UUID: a microservice, a member of one, an uploaded value, a result. A client  1. **creates** a representation of a microservice by matching its description    (`POST /representations`), or of a value by uploading it (`PUT /representations`); 2. takes an **attribute** of it, such as the member `compute` (`GET /representation/{uuid}/compute`); 3. **calls** that (`PATCH /representation/{uuid}` with `{\"args\": [...], \"kwargs\": {...}}`); the    result is a new representation; 4. **downloads** a result (`GET /representation/{uuid}`: `{\"type\": \"object\", \"object\": ...}`); 5. **releases** every representation it made (`DELETE /representation/{uuid}`).  An argument `{\"representation_uuid\": \"...\"}` stands for the object that representation names (an uploaded model, say). Clients of the v0.6 API send a JSON body `{}` with GET and DELETE; it is accepted.  ## Walk-through: a SecureSum of 19, 5 and 61  Three parties run a server each (`npx tessera serve --port 55501`, `55502`, `55503`). Each party's client talks to its own server; party 0 does:  | step | request | answer | |---|---|---| | create | `POST /representations` `{\"args\": [], \"kwargs\": {\"protocol\": \"Simon\"}}` | `{\"type\": \"uuid\", \"uuid\": S}` | | attribute | `GET /representation/S/compute` | `{\"type\": \"uuid\", \"uuid\": C}` | | call | `PATCH /representation/C` with the body below | `{\"type\": \"uuid\", \"uuid\": R}`, once all three have called | | download | `GET /representation/R` | `{\"type\": \"object\", \"object\": {\"inputs\": 3, \"result\": {\"samples\": 3, \"sum\": 85}}}` | | release | `DELETE /representation/R`, then C and S | `{\"type\": \"none\"}` |  ```json {\"args\": [], \"kwargs\": {\"microprotocol\": \"SecureSum\", \"data\": 19,   \"network\": {\"nodes\": [\"http://127.0.0.1:55501\", \"http://127.0.0.1:55502\", \"http://127.0.0.1:55503\"],               \"uuid\": \"a7f4fea2-b5f4-4d64-9705-45b3629a8145\", \"myself\": 0}}} ```  Party 1 sends `\"data\": 5, \"myself\": 1` to its server, party 2 `\"data\": 61, \"myself\": 2`, with the same `nodes` and `uuid`. Each call returns when the sum is known (within the servers' stage timeout, 30 s by default); every party gets 85, and no server sees another party's secret. The same `uuid` may be reused for the next computation of the same parties.  ## Microprotocols  The `Simon` microservice (`{\"protocol\": \"Simon\"}`) has two members. `compute` takes `ComputeKwargs` as its keyword arguments:  | `microprotocol` | `data` | the result downloads as | |---|---|---| | `SecureSum` | `SecureSumInput`: a number, or a list of numbers | `SecureSumResult` | | `SecureFedAvg` | `SecureFedAvgInput`: `{\"tensors\": model, \"weight\": n_k}` | `SecureFedAvgResult`, or a safetensors file | | `PlainFedAvg` | as SecureFedAvg | as SecureFedAvg. **INSECURE baseline**: no masks, each party's scaled model travels in clear; for benchmarks only, never for private models |  `prepare` (`PrepareKwargs`) announces a SecureFedAvg or PlainFedAvg before the model exists: the parties agree on the tensors and prepare the masks while training runs. It returns a prepared computation whose member `submit` (`SubmitKwargs`) gives the model and weight and returns the result; `status` and `cancel` are members too.  Other SIMON microprotocols (statistics, min/max, median, set intersection, ...) answer 501.  ## Other surfaces  - **Peer API** (tag `peer`): server to server only. Parties' servers exchange sealed   envelopes of running computations; clients never call it. - **Operations** (tag `operations`): health, this document, the Swagger UI.  ## Authentication  With a client token configured (`tessera serve --token-file <file>`, or `TESSERA_TOKEN`), every request of the client API carries `Authorization: Bearer <token>` (\"Authorize\" in the Swagger UI); otherwise it answers 401. A server that binds beyond loopback demands a token unless started with `--unauthenticated-clients`. The peer API and the operations take no token: peer envelopes carry their own authentication.  ## Errors  Every error is an RFC 9457 `application/problem+json` document with `type`, `title`, `status` and `detail`; also `code` and `message` (the same as `status` and `detail`), which v0.6 clients read, and `where`: the field, tensor or party at fault. `type` is a relative URI reference `/problems/<slug>` (RFC 9457 §3.1.1), one of `bad-input`, `unauthenticated`, `forbidden`, `not-found`, `method-not-allowed`, `not-acceptable`, `conflict`, `too-large`, `unsupported-media-type`, `limit-reached`, `internal`, `not-implemented`, `peer-failed`, `timeout`. Compare it as a string; it is not meant to be fetched.   # noqa: E501

    OpenAPI spec version: 0.1.0
    
    Generated by: https://github.com/swagger-api/swagger-codegen.git
"""

from __future__ import absolute_import

import re  # noqa: F401

# python 2 and python 3 compatibility library
import six

from tessera_client.api_client import ApiClient


class PeerApi(object):
    """NOTE: This class is auto generated by the swagger code generator program.

    Do not edit the class manually.
    Ref: https://github.com/swagger-api/swagger-codegen
    """

    def __init__(self, api_client=None):
        if api_client is None:
            api_client = ApiClient()
        self.api_client = api_client

    def deliver_peer_message(self, body, **kwargs):  # noqa: E501
        """Deliver one sealed envelope from a peer (server to server)  # noqa: E501

        Server to server only: the parties' Tessera servers send each other the messages of running computations here (shares, masked chunks, protocol terms). A client never calls it; anything but a sealed envelope from a trusted peer is refused. Each envelope is authenticated and encrypted end to end (AES-256-GCM under per-direction keys from X25519 and HKDF), bound to a task, a stage, a sender and a receiver. Accepted envelopes answer 204 with a receipt (SECURITY.md, Peers); forged, replayed or malformed ones a problem.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.deliver_peer_message(body, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param Object body: (required)
        :return: None
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        if kwargs.get('async_req'):
            return self.deliver_peer_message_with_http_info(body, **kwargs)  # noqa: E501
        else:
            (data) = self.deliver_peer_message_with_http_info(body, **kwargs)  # noqa: E501
            return data

    def deliver_peer_message_with_http_info(self, body, **kwargs):  # noqa: E501
        """Deliver one sealed envelope from a peer (server to server)  # noqa: E501

        Server to server only: the parties' Tessera servers send each other the messages of running computations here (shares, masked chunks, protocol terms). A client never calls it; anything but a sealed envelope from a trusted peer is refused. Each envelope is authenticated and encrypted end to end (AES-256-GCM under per-direction keys from X25519 and HKDF), bound to a task, a stage, a sender and a receiver. Accepted envelopes answer 204 with a receipt (SECURITY.md, Peers); forged, replayed or malformed ones a problem.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.deliver_peer_message_with_http_info(body, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param Object body: (required)
        :return: None
                 If the method is called asynchronously,
                 returns the request thread.
        """

        all_params = ['body']  # noqa: E501
        all_params.append('async_req')
        all_params.append('_return_http_data_only')
        all_params.append('_preload_content')
        all_params.append('_request_timeout')

        params = locals()
        for key, val in six.iteritems(params['kwargs']):
            if key not in all_params:
                raise TypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method deliver_peer_message" % key
                )
            params[key] = val
        del params['kwargs']
        # verify the required parameter 'body' is set
        if ('body' not in params or
                params['body'] is None):
            raise ValueError("Missing the required parameter `body` when calling `deliver_peer_message`")  # noqa: E501

        collection_formats = {}

        path_params = {}

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        if 'body' in params:
            body_params = params['body']
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/problem+json'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/octet-stream'])  # noqa: E501

        # Authentication setting
        auth_settings = []  # noqa: E501

        return self.api_client.call_api(
            '/peer/messages', 'POST',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type=None,  # noqa: E501
            auth_settings=auth_settings,
            async_req=params.get('async_req'),
            _return_http_data_only=params.get('_return_http_data_only'),
            _preload_content=params.get('_preload_content', True),
            _request_timeout=params.get('_request_timeout'),
            collection_formats=collection_formats)

    def get_peer_identity(self, **kwargs):  # noqa: E501
        """This server's public identity (server to server)  # noqa: E501

        Server to server: another party's server reads it to authenticate this one before it opens an encrypted channel; people read it to pin this server's key in a peers file. The long-term public key and the id of this boot. With a `challenge` and a network secret configured, `proof` shows knowledge of the secret bound to the challenge. With a `challenge` and the asking server's public key (`asker`), `pairProof` shows, to that server alone, that this server holds the private key of `publicKey` and runs `bootId` now (SECURITY.md, Peers).   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.get_peer_identity(async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param str challenge: A fresh random value (base64url, no padding) to bind the proof to.
        :param str asker: The asking server's X25519 public key (base64url, 32 bytes), for `pairProof`.
        :return: PeerIdentity
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        if kwargs.get('async_req'):
            return self.get_peer_identity_with_http_info(**kwargs)  # noqa: E501
        else:
            (data) = self.get_peer_identity_with_http_info(**kwargs)  # noqa: E501
            return data

    def get_peer_identity_with_http_info(self, **kwargs):  # noqa: E501
        """This server's public identity (server to server)  # noqa: E501

        Server to server: another party's server reads it to authenticate this one before it opens an encrypted channel; people read it to pin this server's key in a peers file. The long-term public key and the id of this boot. With a `challenge` and a network secret configured, `proof` shows knowledge of the secret bound to the challenge. With a `challenge` and the asking server's public key (`asker`), `pairProof` shows, to that server alone, that this server holds the private key of `publicKey` and runs `bootId` now (SECURITY.md, Peers).   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.get_peer_identity_with_http_info(async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param str challenge: A fresh random value (base64url, no padding) to bind the proof to.
        :param str asker: The asking server's X25519 public key (base64url, 32 bytes), for `pairProof`.
        :return: PeerIdentity
                 If the method is called asynchronously,
                 returns the request thread.
        """

        all_params = ['challenge', 'asker']  # noqa: E501
        all_params.append('async_req')
        all_params.append('_return_http_data_only')
        all_params.append('_preload_content')
        all_params.append('_request_timeout')

        params = locals()
        for key, val in six.iteritems(params['kwargs']):
            if key not in all_params:
                raise TypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method get_peer_identity" % key
                )
            params[key] = val
        del params['kwargs']

        collection_formats = {}

        path_params = {}

        query_params = []
        if 'challenge' in params:
            query_params.append(('challenge', params['challenge']))  # noqa: E501
        if 'asker' in params:
            query_params.append(('asker', params['asker']))  # noqa: E501

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json', 'application/problem+json'])  # noqa: E501

        # Authentication setting
        auth_settings = []  # noqa: E501

        return self.api_client.call_api(
            '/peer/identity', 'GET',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='PeerIdentity',  # noqa: E501
            auth_settings=auth_settings,
            async_req=params.get('async_req'),
            _return_http_data_only=params.get('_return_http_data_only'),
            _preload_content=params.get('_preload_content', True),
            _request_timeout=params.get('_request_timeout'),
            collection_formats=collection_formats)

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


class RepresentationsApi(object):
    """NOTE: This class is auto generated by the swagger code generator program.

    Do not edit the class manually.
    Ref: https://github.com/swagger-api/swagger-codegen
    """

    def __init__(self, api_client=None):
        if api_client is None:
            api_client = ApiClient()
        self.api_client = api_client

    def call_representation(self, body, representation_uuid, **kwargs):  # noqa: E501
        """Call a representation (a member of a microservice)  # noqa: E501

        Step 3 of the walk-through: calls the member a representation names with positional and keyword arguments. An argument `{\"representation_uuid\": \"...\"}` stands for the object that representation names. The result becomes a new representation; a member that returns nothing answers `{\"type\": \"none\"}`.  The body is always `ArgsKwargs`; what `kwargs` holds depends on the member:  | member | `kwargs` | result | |---|---|---| | Simon `compute` | `ComputeKwargs` (`microprotocol`, `data`, `network`) | the microprotocol's result (`SecureSumResult`, `StatisticsUnivariateResult`, …: the table in `ComputeKwargs`) | | Simon `prepare` | `PrepareKwargs` | a prepared computation (members `submit`, `status`, `cancel`) | | prepared `submit` | `SubmitKwargs` | `SecureFedAvgResult` | | KeyValueStorage `set`, `get`, `delete`, `keys` | `key`, `value` (or positionally) | the value, or none | | KeyValueStorage `create`, `delete` (FSC's surface) | `storage` (default `default`) | a storage with `store`, `retrieve`, `exists`, `delete` (`key`, `value`); none | | Barrier `wait` | `name`, `parties`, `timeout_seconds` | none, once `parties` clients of this server have arrived | | Broadcast `send`, `receive` | `name`, `value`; `name`, `timeout_seconds` | none; the latest value |  A multi-party call returns once every party in `network.nodes` has made the same call on its own server with the same `uuid`; a party that never comes fails the others with a 504 naming it, a party that gave bad input fails them with a 502 naming it, and parties that disagree (node lists, microprotocol, tensor names or shapes) with a 409. Try the examples at every party's server, with that party's `myself`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.call_representation(body, representation_uuid, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param ArgsKwargs body: (required)
        :param str representation_uuid: The UUID a previous call returned. (required)
        :return: CallResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        if kwargs.get('async_req'):
            return self.call_representation_with_http_info(body, representation_uuid, **kwargs)  # noqa: E501
        else:
            (data) = self.call_representation_with_http_info(body, representation_uuid, **kwargs)  # noqa: E501
            return data

    def call_representation_with_http_info(self, body, representation_uuid, **kwargs):  # noqa: E501
        """Call a representation (a member of a microservice)  # noqa: E501

        Step 3 of the walk-through: calls the member a representation names with positional and keyword arguments. An argument `{\"representation_uuid\": \"...\"}` stands for the object that representation names. The result becomes a new representation; a member that returns nothing answers `{\"type\": \"none\"}`.  The body is always `ArgsKwargs`; what `kwargs` holds depends on the member:  | member | `kwargs` | result | |---|---|---| | Simon `compute` | `ComputeKwargs` (`microprotocol`, `data`, `network`) | the microprotocol's result (`SecureSumResult`, `StatisticsUnivariateResult`, …: the table in `ComputeKwargs`) | | Simon `prepare` | `PrepareKwargs` | a prepared computation (members `submit`, `status`, `cancel`) | | prepared `submit` | `SubmitKwargs` | `SecureFedAvgResult` | | KeyValueStorage `set`, `get`, `delete`, `keys` | `key`, `value` (or positionally) | the value, or none | | KeyValueStorage `create`, `delete` (FSC's surface) | `storage` (default `default`) | a storage with `store`, `retrieve`, `exists`, `delete` (`key`, `value`); none | | Barrier `wait` | `name`, `parties`, `timeout_seconds` | none, once `parties` clients of this server have arrived | | Broadcast `send`, `receive` | `name`, `value`; `name`, `timeout_seconds` | none; the latest value |  A multi-party call returns once every party in `network.nodes` has made the same call on its own server with the same `uuid`; a party that never comes fails the others with a 504 naming it, a party that gave bad input fails them with a 502 naming it, and parties that disagree (node lists, microprotocol, tensor names or shapes) with a 409. Try the examples at every party's server, with that party's `myself`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.call_representation_with_http_info(body, representation_uuid, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param ArgsKwargs body: (required)
        :param str representation_uuid: The UUID a previous call returned. (required)
        :return: CallResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """

        all_params = ['body', 'representation_uuid']  # noqa: E501
        all_params.append('async_req')
        all_params.append('_return_http_data_only')
        all_params.append('_preload_content')
        all_params.append('_request_timeout')

        params = locals()
        for key, val in six.iteritems(params['kwargs']):
            if key not in all_params:
                raise TypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method call_representation" % key
                )
            params[key] = val
        del params['kwargs']
        # verify the required parameter 'body' is set
        if ('body' not in params or
                params['body'] is None):
            raise ValueError("Missing the required parameter `body` when calling `call_representation`")  # noqa: E501
        # verify the required parameter 'representation_uuid' is set
        if ('representation_uuid' not in params or
                params['representation_uuid'] is None):
            raise ValueError("Missing the required parameter `representation_uuid` when calling `call_representation`")  # noqa: E501

        collection_formats = {}

        path_params = {}
        if 'representation_uuid' in params:
            path_params['representation_uuid'] = params['representation_uuid']  # noqa: E501

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        if 'body' in params:
            body_params = params['body']
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json', 'application/problem+json'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['bearerAuth']  # noqa: E501

        return self.api_client.call_api(
            '/representation/{representation_uuid}', 'PATCH',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='CallResponse',  # noqa: E501
            auth_settings=auth_settings,
            async_req=params.get('async_req'),
            _return_http_data_only=params.get('_return_http_data_only'),
            _preload_content=params.get('_preload_content', True),
            _request_timeout=params.get('_request_timeout'),
            collection_formats=collection_formats)

    def create_attribute(self, representation_uuid, attribute_name, **kwargs):  # noqa: E501
        """Create a representation of an attribute  # noqa: E501

        Step 2 of the walk-through: `GET /representation/{uuid}/compute` on the Simon representation gives the member to call. Only the explicit member list of a microservice is reachable; nothing is looked up by reflection. Unknown names are a 404, private or prototype names a 403.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.create_attribute(representation_uuid, attribute_name, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param str representation_uuid: The UUID a previous call returned. (required)
        :param str attribute_name: A member of a microservice or server object (`compute`, `prepare`, `submit`, `set`, ...), or an own property of a JSON object value. Names starting with `_`, `__proto__`, `constructor` and `prototype` are refused (403).  (required)
        :return: UuidResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        if kwargs.get('async_req'):
            return self.create_attribute_with_http_info(representation_uuid, attribute_name, **kwargs)  # noqa: E501
        else:
            (data) = self.create_attribute_with_http_info(representation_uuid, attribute_name, **kwargs)  # noqa: E501
            return data

    def create_attribute_with_http_info(self, representation_uuid, attribute_name, **kwargs):  # noqa: E501
        """Create a representation of an attribute  # noqa: E501

        Step 2 of the walk-through: `GET /representation/{uuid}/compute` on the Simon representation gives the member to call. Only the explicit member list of a microservice is reachable; nothing is looked up by reflection. Unknown names are a 404, private or prototype names a 403.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.create_attribute_with_http_info(representation_uuid, attribute_name, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param str representation_uuid: The UUID a previous call returned. (required)
        :param str attribute_name: A member of a microservice or server object (`compute`, `prepare`, `submit`, `set`, ...), or an own property of a JSON object value. Names starting with `_`, `__proto__`, `constructor` and `prototype` are refused (403).  (required)
        :return: UuidResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """

        all_params = ['representation_uuid', 'attribute_name']  # noqa: E501
        all_params.append('async_req')
        all_params.append('_return_http_data_only')
        all_params.append('_preload_content')
        all_params.append('_request_timeout')

        params = locals()
        for key, val in six.iteritems(params['kwargs']):
            if key not in all_params:
                raise TypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method create_attribute" % key
                )
            params[key] = val
        del params['kwargs']
        # verify the required parameter 'representation_uuid' is set
        if ('representation_uuid' not in params or
                params['representation_uuid'] is None):
            raise ValueError("Missing the required parameter `representation_uuid` when calling `create_attribute`")  # noqa: E501
        # verify the required parameter 'attribute_name' is set
        if ('attribute_name' not in params or
                params['attribute_name'] is None):
            raise ValueError("Missing the required parameter `attribute_name` when calling `create_attribute`")  # noqa: E501

        collection_formats = {}

        path_params = {}
        if 'representation_uuid' in params:
            path_params['representation_uuid'] = params['representation_uuid']  # noqa: E501
        if 'attribute_name' in params:
            path_params['attribute_name'] = params['attribute_name']  # noqa: E501

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json', 'application/problem+json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['bearerAuth']  # noqa: E501

        return self.api_client.call_api(
            '/representation/{representation_uuid}/{attribute_name}', 'GET',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='UuidResponse',  # noqa: E501
            auth_settings=auth_settings,
            async_req=params.get('async_req'),
            _return_http_data_only=params.get('_return_http_data_only'),
            _preload_content=params.get('_preload_content', True),
            _request_timeout=params.get('_request_timeout'),
            collection_formats=collection_formats)

    def create_representation(self, body, **kwargs):  # noqa: E501
        """Create a representation of a microservice  # noqa: E501

        Step 1 of the walk-through. `kwargs` are requirements: a microservice matches when every requirement key is present in its description (see `listRepresentations`) with an equal value. The first match is returned as a new representation; releasing it never removes the microservice. No match is a 404. `args` must be empty.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.create_representation(body, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param ArgsKwargs body: (required)
        :return: UuidResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        if kwargs.get('async_req'):
            return self.create_representation_with_http_info(body, **kwargs)  # noqa: E501
        else:
            (data) = self.create_representation_with_http_info(body, **kwargs)  # noqa: E501
            return data

    def create_representation_with_http_info(self, body, **kwargs):  # noqa: E501
        """Create a representation of a microservice  # noqa: E501

        Step 1 of the walk-through. `kwargs` are requirements: a microservice matches when every requirement key is present in its description (see `listRepresentations`) with an equal value. The first match is returned as a new representation; releasing it never removes the microservice. No match is a 404. `args` must be empty.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.create_representation_with_http_info(body, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param ArgsKwargs body: (required)
        :return: UuidResponse
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
                    " to method create_representation" % key
                )
            params[key] = val
        del params['kwargs']
        # verify the required parameter 'body' is set
        if ('body' not in params or
                params['body'] is None):
            raise ValueError("Missing the required parameter `body` when calling `create_representation`")  # noqa: E501

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
            ['application/json', 'application/problem+json'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['bearerAuth']  # noqa: E501

        return self.api_client.call_api(
            '/representations', 'POST',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='UuidResponse',  # noqa: E501
            auth_settings=auth_settings,
            async_req=params.get('async_req'),
            _return_http_data_only=params.get('_return_http_data_only'),
            _preload_content=params.get('_preload_content', True),
            _request_timeout=params.get('_request_timeout'),
            collection_formats=collection_formats)

    def download_representation(self, representation_uuid, **kwargs):  # noqa: E501
        """Download the value a representation names  # noqa: E501

        Step 4 of the walk-through. JSON values come back as `{\"type\": \"object\", \"object\": value}`: a `SecureSumResult`, a `SecureFedAvgResult` (named tensors as `TensorJson`), or whatever JSON was uploaded or returned. Named tensors also come as a safetensors file with `Accept: application/octet-stream` (406 when the value is not tensors); that file also carries a FedAvg result's metadata. Microservices, members and prepared computations are not downloadable (400).   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.download_representation(representation_uuid, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param str representation_uuid: The UUID a previous call returned. (required)
        :return: ObjectResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        if kwargs.get('async_req'):
            return self.download_representation_with_http_info(representation_uuid, **kwargs)  # noqa: E501
        else:
            (data) = self.download_representation_with_http_info(representation_uuid, **kwargs)  # noqa: E501
            return data

    def download_representation_with_http_info(self, representation_uuid, **kwargs):  # noqa: E501
        """Download the value a representation names  # noqa: E501

        Step 4 of the walk-through. JSON values come back as `{\"type\": \"object\", \"object\": value}`: a `SecureSumResult`, a `SecureFedAvgResult` (named tensors as `TensorJson`), or whatever JSON was uploaded or returned. Named tensors also come as a safetensors file with `Accept: application/octet-stream` (406 when the value is not tensors); that file also carries a FedAvg result's metadata. Microservices, members and prepared computations are not downloadable (400).   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.download_representation_with_http_info(representation_uuid, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param str representation_uuid: The UUID a previous call returned. (required)
        :return: ObjectResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """

        all_params = ['representation_uuid']  # noqa: E501
        all_params.append('async_req')
        all_params.append('_return_http_data_only')
        all_params.append('_preload_content')
        all_params.append('_request_timeout')

        params = locals()
        for key, val in six.iteritems(params['kwargs']):
            if key not in all_params:
                raise TypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method download_representation" % key
                )
            params[key] = val
        del params['kwargs']
        # verify the required parameter 'representation_uuid' is set
        if ('representation_uuid' not in params or
                params['representation_uuid'] is None):
            raise ValueError("Missing the required parameter `representation_uuid` when calling `download_representation`")  # noqa: E501

        collection_formats = {}

        path_params = {}
        if 'representation_uuid' in params:
            path_params['representation_uuid'] = params['representation_uuid']  # noqa: E501

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json', 'application/octet-stream', 'application/problem+json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['bearerAuth']  # noqa: E501

        return self.api_client.call_api(
            '/representation/{representation_uuid}', 'GET',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='ObjectResponse',  # noqa: E501
            auth_settings=auth_settings,
            async_req=params.get('async_req'),
            _return_http_data_only=params.get('_return_http_data_only'),
            _preload_content=params.get('_preload_content', True),
            _request_timeout=params.get('_request_timeout'),
            collection_formats=collection_formats)

    def list_representations(self, **kwargs):  # noqa: E501
        """List the microservices this server offers  # noqa: E501

        The description of every registered microservice, in registration order. Pick one by passing some of its keys as the `kwargs` of `createRepresentation`. Clients of the v0.6 API send the body `{}`; it is accepted.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.list_representations(async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :return: ListResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        if kwargs.get('async_req'):
            return self.list_representations_with_http_info(**kwargs)  # noqa: E501
        else:
            (data) = self.list_representations_with_http_info(**kwargs)  # noqa: E501
            return data

    def list_representations_with_http_info(self, **kwargs):  # noqa: E501
        """List the microservices this server offers  # noqa: E501

        The description of every registered microservice, in registration order. Pick one by passing some of its keys as the `kwargs` of `createRepresentation`. Clients of the v0.6 API send the body `{}`; it is accepted.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.list_representations_with_http_info(async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :return: ListResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """

        all_params = []  # noqa: E501
        all_params.append('async_req')
        all_params.append('_return_http_data_only')
        all_params.append('_preload_content')
        all_params.append('_request_timeout')

        params = locals()
        for key, val in six.iteritems(params['kwargs']):
            if key not in all_params:
                raise TypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method list_representations" % key
                )
            params[key] = val
        del params['kwargs']

        collection_formats = {}

        path_params = {}

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json', 'application/problem+json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['bearerAuth']  # noqa: E501

        return self.api_client.call_api(
            '/representations', 'GET',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='ListResponse',  # noqa: E501
            auth_settings=auth_settings,
            async_req=params.get('async_req'),
            _return_http_data_only=params.get('_return_http_data_only'),
            _preload_content=params.get('_preload_content', True),
            _request_timeout=params.get('_request_timeout'),
            collection_formats=collection_formats)

    def release_representation(self, representation_uuid, **kwargs):  # noqa: E501
        """Release a representation  # noqa: E501

        Step 5 of the walk-through: frees the representation (a representation unused for an hour, by default, also expires). Releasing the representation of a microservice never removes the microservice itself. Clients of the v0.6 API send the body `{}`; it is accepted.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.release_representation(representation_uuid, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param str representation_uuid: The UUID a previous call returned. (required)
        :return: NoneResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        if kwargs.get('async_req'):
            return self.release_representation_with_http_info(representation_uuid, **kwargs)  # noqa: E501
        else:
            (data) = self.release_representation_with_http_info(representation_uuid, **kwargs)  # noqa: E501
            return data

    def release_representation_with_http_info(self, representation_uuid, **kwargs):  # noqa: E501
        """Release a representation  # noqa: E501

        Step 5 of the walk-through: frees the representation (a representation unused for an hour, by default, also expires). Releasing the representation of a microservice never removes the microservice itself. Clients of the v0.6 API send the body `{}`; it is accepted.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.release_representation_with_http_info(representation_uuid, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param str representation_uuid: The UUID a previous call returned. (required)
        :return: NoneResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """

        all_params = ['representation_uuid']  # noqa: E501
        all_params.append('async_req')
        all_params.append('_return_http_data_only')
        all_params.append('_preload_content')
        all_params.append('_request_timeout')

        params = locals()
        for key, val in six.iteritems(params['kwargs']):
            if key not in all_params:
                raise TypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method release_representation" % key
                )
            params[key] = val
        del params['kwargs']
        # verify the required parameter 'representation_uuid' is set
        if ('representation_uuid' not in params or
                params['representation_uuid'] is None):
            raise ValueError("Missing the required parameter `representation_uuid` when calling `release_representation`")  # noqa: E501

        collection_formats = {}

        path_params = {}
        if 'representation_uuid' in params:
            path_params['representation_uuid'] = params['representation_uuid']  # noqa: E501

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json', 'application/problem+json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['bearerAuth']  # noqa: E501

        return self.api_client.call_api(
            '/representation/{representation_uuid}', 'DELETE',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='NoneResponse',  # noqa: E501
            auth_settings=auth_settings,
            async_req=params.get('async_req'),
            _return_http_data_only=params.get('_return_http_data_only'),
            _preload_content=params.get('_preload_content', True),
            _request_timeout=params.get('_request_timeout'),
            collection_formats=collection_formats)

    def upload_representation(self, body, **kwargs):  # noqa: E501
        """Upload a value and return its representation  # noqa: E501

        Makes a value available on the server, to be passed to a call as `{\"representation_uuid\": \"...\"}` (or downloaded again).  - `application/json`: the value is the one positional argument, `{\"args\": [value], \"kwargs\": {}}`.   Named tensors may be given as JSON (`NamedTensors`). - `application/octet-stream`: a [safetensors](https://github.com/huggingface/safetensors)   file (8-byte little-endian header length, JSON header `{name: {dtype, shape,   data_offsets}}`, raw little-endian data) becomes a set of named tensors. That is how   PyTorch, NumPy and Hugging Face users save models; F32 and F64 are carried.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.upload_representation(body, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param UploadRequest body: (required)
        :return: UuidResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        if kwargs.get('async_req'):
            return self.upload_representation_with_http_info(body, **kwargs)  # noqa: E501
        else:
            (data) = self.upload_representation_with_http_info(body, **kwargs)  # noqa: E501
            return data

    def upload_representation_with_http_info(self, body, **kwargs):  # noqa: E501
        """Upload a value and return its representation  # noqa: E501

        Makes a value available on the server, to be passed to a call as `{\"representation_uuid\": \"...\"}` (or downloaded again).  - `application/json`: the value is the one positional argument, `{\"args\": [value], \"kwargs\": {}}`.   Named tensors may be given as JSON (`NamedTensors`). - `application/octet-stream`: a [safetensors](https://github.com/huggingface/safetensors)   file (8-byte little-endian header length, JSON header `{name: {dtype, shape,   data_offsets}}`, raw little-endian data) becomes a set of named tensors. That is how   PyTorch, NumPy and Hugging Face users save models; F32 and F64 are carried.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.upload_representation_with_http_info(body, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param UploadRequest body: (required)
        :return: UuidResponse
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
                    " to method upload_representation" % key
                )
            params[key] = val
        del params['kwargs']
        # verify the required parameter 'body' is set
        if ('body' not in params or
                params['body'] is None):
            raise ValueError("Missing the required parameter `body` when calling `upload_representation`")  # noqa: E501

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
            ['application/json', 'application/problem+json'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/json', 'application/octet-stream'])  # noqa: E501

        # Authentication setting
        auth_settings = ['bearerAuth']  # noqa: E501

        return self.api_client.call_api(
            '/representations', 'PUT',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='UuidResponse',  # noqa: E501
            auth_settings=auth_settings,
            async_req=params.get('async_req'),
            _return_http_data_only=params.get('_return_http_data_only'),
            _preload_content=params.get('_preload_content', True),
            _request_timeout=params.get('_request_timeout'),
            collection_formats=collection_formats)

    def upload_representation(self, body, **kwargs):  # noqa: E501
        """Upload a value and return its representation  # noqa: E501

        Makes a value available on the server, to be passed to a call as `{\"representation_uuid\": \"...\"}` (or downloaded again).  - `application/json`: the value is the one positional argument, `{\"args\": [value], \"kwargs\": {}}`.   Named tensors may be given as JSON (`NamedTensors`). - `application/octet-stream`: a [safetensors](https://github.com/huggingface/safetensors)   file (8-byte little-endian header length, JSON header `{name: {dtype, shape,   data_offsets}}`, raw little-endian data) becomes a set of named tensors. That is how   PyTorch, NumPy and Hugging Face users save models; F32 and F64 are carried.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.upload_representation(body, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param UploadRequest body: (required)
        :return: UuidResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        if kwargs.get('async_req'):
            return self.upload_representation_with_http_info(body, **kwargs)  # noqa: E501
        else:
            (data) = self.upload_representation_with_http_info(body, **kwargs)  # noqa: E501
            return data

    def upload_representation_with_http_info(self, body, **kwargs):  # noqa: E501
        """Upload a value and return its representation  # noqa: E501

        Makes a value available on the server, to be passed to a call as `{\"representation_uuid\": \"...\"}` (or downloaded again).  - `application/json`: the value is the one positional argument, `{\"args\": [value], \"kwargs\": {}}`.   Named tensors may be given as JSON (`NamedTensors`). - `application/octet-stream`: a [safetensors](https://github.com/huggingface/safetensors)   file (8-byte little-endian header length, JSON header `{name: {dtype, shape,   data_offsets}}`, raw little-endian data) becomes a set of named tensors. That is how   PyTorch, NumPy and Hugging Face users save models; F32 and F64 are carried.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.upload_representation_with_http_info(body, async_req=True)
        >>> result = thread.get()

        :param async_req bool
        :param UploadRequest body: (required)
        :return: UuidResponse
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
                    " to method upload_representation" % key
                )
            params[key] = val
        del params['kwargs']
        # verify the required parameter 'body' is set
        if ('body' not in params or
                params['body'] is None):
            raise ValueError("Missing the required parameter `body` when calling `upload_representation`")  # noqa: E501

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
            ['application/json', 'application/problem+json'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/json', 'application/octet-stream'])  # noqa: E501

        # Authentication setting
        auth_settings = ['bearerAuth']  # noqa: E501

        return self.api_client.call_api(
            '/representations', 'PUT',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='UuidResponse',  # noqa: E501
            auth_settings=auth_settings,
            async_req=params.get('async_req'),
            _return_http_data_only=params.get('_return_http_data_only'),
            _preload_content=params.get('_preload_content', True),
            _request_timeout=params.get('_request_timeout'),
            collection_formats=collection_formats)

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

class StatisticsUnivariateResultResult(object):
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
        'samples': 'float',
        'sum': 'float',
        'mean': 'float',
        'minimum': 'float',
        'maximum': 'float',
        'harmonic_mean': 'float',
        'geometric_mean': 'float',
        'variance': 'float',
        'variance_mle': 'float',
        'variance_of_sample_mean': 'float',
        'standard_deviation': 'float',
        'standard_deviation_mle': 'float',
        'standard_error_of_sample_mean': 'float',
        'coefficient_of_variation': 'float',
        'coefficient_of_variation_mle': 'float',
        'root_mean_square': 'float',
        'root_mean_square_deviation': 'float',
        'skewness': 'float',
        'kurtosis': 'float',
        'kurtosis_excess': 'float',
        'hyper_skewness': 'float',
        'hyper_flatness': 'float'
    }

    attribute_map = {
        'samples': 'samples',
        'sum': 'sum',
        'mean': 'mean',
        'minimum': 'minimum',
        'maximum': 'maximum',
        'harmonic_mean': 'harmonic_mean',
        'geometric_mean': 'geometric_mean',
        'variance': 'variance',
        'variance_mle': 'variance_mle',
        'variance_of_sample_mean': 'variance_of_sample_mean',
        'standard_deviation': 'standard_deviation',
        'standard_deviation_mle': 'standard_deviation_mle',
        'standard_error_of_sample_mean': 'standard_error_of_sample_mean',
        'coefficient_of_variation': 'coefficient_of_variation',
        'coefficient_of_variation_mle': 'coefficient_of_variation_mle',
        'root_mean_square': 'root_mean_square',
        'root_mean_square_deviation': 'root_mean_square_deviation',
        'skewness': 'skewness',
        'kurtosis': 'kurtosis',
        'kurtosis_excess': 'kurtosis_excess',
        'hyper_skewness': 'hyper_skewness',
        'hyper_flatness': 'hyper_flatness'
    }

    def __init__(self, samples=None, sum=None, mean=None, minimum=None, maximum=None, harmonic_mean=None, geometric_mean=None, variance=None, variance_mle=None, variance_of_sample_mean=None, standard_deviation=None, standard_deviation_mle=None, standard_error_of_sample_mean=None, coefficient_of_variation=None, coefficient_of_variation_mle=None, root_mean_square=None, root_mean_square_deviation=None, skewness=None, kurtosis=None, kurtosis_excess=None, hyper_skewness=None, hyper_flatness=None):  # noqa: E501
        """StatisticsUnivariateResultResult - a model defined in Swagger"""  # noqa: E501
        self._samples = None
        self._sum = None
        self._mean = None
        self._minimum = None
        self._maximum = None
        self._harmonic_mean = None
        self._geometric_mean = None
        self._variance = None
        self._variance_mle = None
        self._variance_of_sample_mean = None
        self._standard_deviation = None
        self._standard_deviation_mle = None
        self._standard_error_of_sample_mean = None
        self._coefficient_of_variation = None
        self._coefficient_of_variation_mle = None
        self._root_mean_square = None
        self._root_mean_square_deviation = None
        self._skewness = None
        self._kurtosis = None
        self._kurtosis_excess = None
        self._hyper_skewness = None
        self._hyper_flatness = None
        self.discriminator = None
        self.samples = samples
        self.sum = sum
        self.mean = mean
        self.minimum = minimum
        self.maximum = maximum
        self.harmonic_mean = harmonic_mean
        self.geometric_mean = geometric_mean
        self.variance = variance
        self.variance_mle = variance_mle
        self.variance_of_sample_mean = variance_of_sample_mean
        self.standard_deviation = standard_deviation
        self.standard_deviation_mle = standard_deviation_mle
        self.standard_error_of_sample_mean = standard_error_of_sample_mean
        self.coefficient_of_variation = coefficient_of_variation
        self.coefficient_of_variation_mle = coefficient_of_variation_mle
        self.root_mean_square = root_mean_square
        self.root_mean_square_deviation = root_mean_square_deviation
        self.skewness = skewness
        self.kurtosis = kurtosis
        self.kurtosis_excess = kurtosis_excess
        self.hyper_skewness = hyper_skewness
        self.hyper_flatness = hyper_flatness

    @property
    def samples(self):
        """Gets the samples of this StatisticsUnivariateResultResult.  # noqa: E501

        N (float)  # noqa: E501

        :return: The samples of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._samples

    @samples.setter
    def samples(self, samples):
        """Sets the samples of this StatisticsUnivariateResultResult.

        N (float)  # noqa: E501

        :param samples: The samples of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if samples is None:
            raise ValueError("Invalid value for `samples`, must not be `None`")  # noqa: E501

        self._samples = samples

    @property
    def sum(self):
        """Gets the sum of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The sum of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._sum

    @sum.setter
    def sum(self, sum):
        """Sets the sum of this StatisticsUnivariateResultResult.


        :param sum: The sum of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if sum is None:
            raise ValueError("Invalid value for `sum`, must not be `None`")  # noqa: E501

        self._sum = sum

    @property
    def mean(self):
        """Gets the mean of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The mean of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._mean

    @mean.setter
    def mean(self, mean):
        """Sets the mean of this StatisticsUnivariateResultResult.


        :param mean: The mean of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if mean is None:
            raise ValueError("Invalid value for `mean`, must not be `None`")  # noqa: E501

        self._mean = mean

    @property
    def minimum(self):
        """Gets the minimum of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The minimum of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._minimum

    @minimum.setter
    def minimum(self, minimum):
        """Sets the minimum of this StatisticsUnivariateResultResult.


        :param minimum: The minimum of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if minimum is None:
            raise ValueError("Invalid value for `minimum`, must not be `None`")  # noqa: E501

        self._minimum = minimum

    @property
    def maximum(self):
        """Gets the maximum of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The maximum of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._maximum

    @maximum.setter
    def maximum(self, maximum):
        """Sets the maximum of this StatisticsUnivariateResultResult.


        :param maximum: The maximum of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if maximum is None:
            raise ValueError("Invalid value for `maximum`, must not be `None`")  # noqa: E501

        self._maximum = maximum

    @property
    def harmonic_mean(self):
        """Gets the harmonic_mean of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The harmonic_mean of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._harmonic_mean

    @harmonic_mean.setter
    def harmonic_mean(self, harmonic_mean):
        """Sets the harmonic_mean of this StatisticsUnivariateResultResult.


        :param harmonic_mean: The harmonic_mean of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if harmonic_mean is None:
            raise ValueError("Invalid value for `harmonic_mean`, must not be `None`")  # noqa: E501

        self._harmonic_mean = harmonic_mean

    @property
    def geometric_mean(self):
        """Gets the geometric_mean of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The geometric_mean of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._geometric_mean

    @geometric_mean.setter
    def geometric_mean(self, geometric_mean):
        """Sets the geometric_mean of this StatisticsUnivariateResultResult.


        :param geometric_mean: The geometric_mean of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if geometric_mean is None:
            raise ValueError("Invalid value for `geometric_mean`, must not be `None`")  # noqa: E501

        self._geometric_mean = geometric_mean

    @property
    def variance(self):
        """Gets the variance of this StatisticsUnivariateResultResult.  # noqa: E501

        C2/(N−1)  # noqa: E501

        :return: The variance of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._variance

    @variance.setter
    def variance(self, variance):
        """Sets the variance of this StatisticsUnivariateResultResult.

        C2/(N−1)  # noqa: E501

        :param variance: The variance of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if variance is None:
            raise ValueError("Invalid value for `variance`, must not be `None`")  # noqa: E501

        self._variance = variance

    @property
    def variance_mle(self):
        """Gets the variance_mle of this StatisticsUnivariateResultResult.  # noqa: E501

        C2/N  # noqa: E501

        :return: The variance_mle of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._variance_mle

    @variance_mle.setter
    def variance_mle(self, variance_mle):
        """Sets the variance_mle of this StatisticsUnivariateResultResult.

        C2/N  # noqa: E501

        :param variance_mle: The variance_mle of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if variance_mle is None:
            raise ValueError("Invalid value for `variance_mle`, must not be `None`")  # noqa: E501

        self._variance_mle = variance_mle

    @property
    def variance_of_sample_mean(self):
        """Gets the variance_of_sample_mean of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The variance_of_sample_mean of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._variance_of_sample_mean

    @variance_of_sample_mean.setter
    def variance_of_sample_mean(self, variance_of_sample_mean):
        """Sets the variance_of_sample_mean of this StatisticsUnivariateResultResult.


        :param variance_of_sample_mean: The variance_of_sample_mean of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if variance_of_sample_mean is None:
            raise ValueError("Invalid value for `variance_of_sample_mean`, must not be `None`")  # noqa: E501

        self._variance_of_sample_mean = variance_of_sample_mean

    @property
    def standard_deviation(self):
        """Gets the standard_deviation of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The standard_deviation of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._standard_deviation

    @standard_deviation.setter
    def standard_deviation(self, standard_deviation):
        """Sets the standard_deviation of this StatisticsUnivariateResultResult.


        :param standard_deviation: The standard_deviation of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if standard_deviation is None:
            raise ValueError("Invalid value for `standard_deviation`, must not be `None`")  # noqa: E501

        self._standard_deviation = standard_deviation

    @property
    def standard_deviation_mle(self):
        """Gets the standard_deviation_mle of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The standard_deviation_mle of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._standard_deviation_mle

    @standard_deviation_mle.setter
    def standard_deviation_mle(self, standard_deviation_mle):
        """Sets the standard_deviation_mle of this StatisticsUnivariateResultResult.


        :param standard_deviation_mle: The standard_deviation_mle of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if standard_deviation_mle is None:
            raise ValueError("Invalid value for `standard_deviation_mle`, must not be `None`")  # noqa: E501

        self._standard_deviation_mle = standard_deviation_mle

    @property
    def standard_error_of_sample_mean(self):
        """Gets the standard_error_of_sample_mean of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The standard_error_of_sample_mean of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._standard_error_of_sample_mean

    @standard_error_of_sample_mean.setter
    def standard_error_of_sample_mean(self, standard_error_of_sample_mean):
        """Sets the standard_error_of_sample_mean of this StatisticsUnivariateResultResult.


        :param standard_error_of_sample_mean: The standard_error_of_sample_mean of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if standard_error_of_sample_mean is None:
            raise ValueError("Invalid value for `standard_error_of_sample_mean`, must not be `None`")  # noqa: E501

        self._standard_error_of_sample_mean = standard_error_of_sample_mean

    @property
    def coefficient_of_variation(self):
        """Gets the coefficient_of_variation of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The coefficient_of_variation of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._coefficient_of_variation

    @coefficient_of_variation.setter
    def coefficient_of_variation(self, coefficient_of_variation):
        """Sets the coefficient_of_variation of this StatisticsUnivariateResultResult.


        :param coefficient_of_variation: The coefficient_of_variation of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if coefficient_of_variation is None:
            raise ValueError("Invalid value for `coefficient_of_variation`, must not be `None`")  # noqa: E501

        self._coefficient_of_variation = coefficient_of_variation

    @property
    def coefficient_of_variation_mle(self):
        """Gets the coefficient_of_variation_mle of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The coefficient_of_variation_mle of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._coefficient_of_variation_mle

    @coefficient_of_variation_mle.setter
    def coefficient_of_variation_mle(self, coefficient_of_variation_mle):
        """Sets the coefficient_of_variation_mle of this StatisticsUnivariateResultResult.


        :param coefficient_of_variation_mle: The coefficient_of_variation_mle of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if coefficient_of_variation_mle is None:
            raise ValueError("Invalid value for `coefficient_of_variation_mle`, must not be `None`")  # noqa: E501

        self._coefficient_of_variation_mle = coefficient_of_variation_mle

    @property
    def root_mean_square(self):
        """Gets the root_mean_square of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The root_mean_square of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._root_mean_square

    @root_mean_square.setter
    def root_mean_square(self, root_mean_square):
        """Sets the root_mean_square of this StatisticsUnivariateResultResult.


        :param root_mean_square: The root_mean_square of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if root_mean_square is None:
            raise ValueError("Invalid value for `root_mean_square`, must not be `None`")  # noqa: E501

        self._root_mean_square = root_mean_square

    @property
    def root_mean_square_deviation(self):
        """Gets the root_mean_square_deviation of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The root_mean_square_deviation of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._root_mean_square_deviation

    @root_mean_square_deviation.setter
    def root_mean_square_deviation(self, root_mean_square_deviation):
        """Sets the root_mean_square_deviation of this StatisticsUnivariateResultResult.


        :param root_mean_square_deviation: The root_mean_square_deviation of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if root_mean_square_deviation is None:
            raise ValueError("Invalid value for `root_mean_square_deviation`, must not be `None`")  # noqa: E501

        self._root_mean_square_deviation = root_mean_square_deviation

    @property
    def skewness(self):
        """Gets the skewness of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The skewness of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._skewness

    @skewness.setter
    def skewness(self, skewness):
        """Sets the skewness of this StatisticsUnivariateResultResult.


        :param skewness: The skewness of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if skewness is None:
            raise ValueError("Invalid value for `skewness`, must not be `None`")  # noqa: E501

        self._skewness = skewness

    @property
    def kurtosis(self):
        """Gets the kurtosis of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The kurtosis of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._kurtosis

    @kurtosis.setter
    def kurtosis(self, kurtosis):
        """Sets the kurtosis of this StatisticsUnivariateResultResult.


        :param kurtosis: The kurtosis of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if kurtosis is None:
            raise ValueError("Invalid value for `kurtosis`, must not be `None`")  # noqa: E501

        self._kurtosis = kurtosis

    @property
    def kurtosis_excess(self):
        """Gets the kurtosis_excess of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The kurtosis_excess of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._kurtosis_excess

    @kurtosis_excess.setter
    def kurtosis_excess(self, kurtosis_excess):
        """Sets the kurtosis_excess of this StatisticsUnivariateResultResult.


        :param kurtosis_excess: The kurtosis_excess of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if kurtosis_excess is None:
            raise ValueError("Invalid value for `kurtosis_excess`, must not be `None`")  # noqa: E501

        self._kurtosis_excess = kurtosis_excess

    @property
    def hyper_skewness(self):
        """Gets the hyper_skewness of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The hyper_skewness of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._hyper_skewness

    @hyper_skewness.setter
    def hyper_skewness(self, hyper_skewness):
        """Sets the hyper_skewness of this StatisticsUnivariateResultResult.


        :param hyper_skewness: The hyper_skewness of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if hyper_skewness is None:
            raise ValueError("Invalid value for `hyper_skewness`, must not be `None`")  # noqa: E501

        self._hyper_skewness = hyper_skewness

    @property
    def hyper_flatness(self):
        """Gets the hyper_flatness of this StatisticsUnivariateResultResult.  # noqa: E501


        :return: The hyper_flatness of this StatisticsUnivariateResultResult.  # noqa: E501
        :rtype: float
        """
        return self._hyper_flatness

    @hyper_flatness.setter
    def hyper_flatness(self, hyper_flatness):
        """Sets the hyper_flatness of this StatisticsUnivariateResultResult.


        :param hyper_flatness: The hyper_flatness of this StatisticsUnivariateResultResult.  # noqa: E501
        :type: float
        """
        if hyper_flatness is None:
            raise ValueError("Invalid value for `hyper_flatness`, must not be `None`")  # noqa: E501

        self._hyper_flatness = hyper_flatness

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
        if issubclass(StatisticsUnivariateResultResult, dict):
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
        if not isinstance(other, StatisticsUnivariateResultResult):
            return False

        return self.__dict__ == other.__dict__

    def __ne__(self, other):
        """Returns true if both objects are not equal"""
        return not self == other

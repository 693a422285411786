// Package wire speaks SNS's Publish and PublishBatch on the wire without the
// SDK's generic machinery: it writes the AWS Query form body into a pooled
// buffer in one pass, signs it with the SDK's own SigV4 signer and
// credentials, sends it with the SDK client's HTTP client to the endpoint
// the SDK resolves, and reads the answer with a scanner that allocates one
// string per response.
//
//	consumer -> avro -> mapping -> sns -> sns/internal/wire -> SNS
//
// It is the sns package's transport for the hot path. The SDK stays in
// charge of everything that is not per event: the credential chain, the
// region, endpoint resolution (BaseEndpoint, AWS_ENDPOINT_URL_SNS, FIPS and
// dual-stack) and the control-plane calls (GetTopicAttributes).
//
// # Equivalence with the SDK
//
// The package is held to what the SDK (service/sns with smithy-go's awsQuery
// protocol) does, byte for byte where that can be checked:
//
//   - the body is the SDK's body: the same parameters, escaped with
//     url.QueryEscape, in the SDK's order (keys sorted; attributes sorted by
//     name and numbered in that order; a repeated attribute name keeps its
//     last value);
//   - a 2xx answer is read as the SDK reads it: the first element named
//     PublishBatchResult (any case), members matched in any case, unknown
//     elements skipped, and an empty body is an empty result;
//   - an error answer becomes the error the SDK returns, in the same chain
//     (*smithy.OperationError, *awshttp.ResponseError carrying the status and
//     request id, then an *APIError with the SDK's code, message and fault,
//     or a *smithy.DeserializationError when the body says nothing the SDK
//     can read), so that sns.Classify and anything using errors.As classify
//     both alike. Bodies the SDK cannot read (empty, HTML, JSON, truncated)
//     are described by a *BodyError inside the DeserializationError; a JSON
//     body's __type and the X-Amzn-Query-Error header are reported there and
//     deliberately not used as a code, because the SDK does not use them
//     for SNS.
//
// Tests check each of these against the SDK itself (equivalence tests, a
// differential fuzzer and sns.Classify on both paths).
package wire

package enginebridge

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// The few Spark Connect protocol messages the Spark adapter uses, encoded
// by hand: spark-connect-go keeps its generated protobuf types in an
// internal package. Field numbers are those of Spark 4.0's
// spark/connect/base.proto and relations.proto.

const (
	sparkMethodExecutePlan    = "/spark.connect.SparkConnectService/ExecutePlan"
	sparkMethodInterrupt      = "/spark.connect.SparkConnectService/Interrupt"
	sparkMethodReleaseSession = "/spark.connect.SparkConnectService/ReleaseSession"

	sparkInterruptTypeOperationID = 3 // InterruptRequest.INTERRUPT_TYPE_OPERATION_ID
)

// rawCodec passes already encoded messages through gRPC.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
	}
	return *b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

func appendStringField(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMessageField(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

// appendRequestHeader writes the fields every request starts with:
// session_id = 1, user_context = 2 {user_id = 1}.
func appendRequestHeader(b []byte, sessionID, userID string) []byte {
	b = appendStringField(b, 1, sessionID)
	return appendMessageField(b, 2, appendStringField(nil, 1, userID))
}

// encodeExecutePlanRequest: ExecutePlanRequest{session_id = 1,
// user_context = 2, plan = 3 {root = 1 {sql = 10 {query = 1}}},
// client_type = 4, operation_id = 6}. No request options: the execution
// is not reattachable, so the server ends it when the stream ends.
func encodeExecutePlanRequest(sessionID, userID, clientType, opID, query string) []byte {
	sqlRel := appendStringField(nil, 1, query)
	rel := appendMessageField(nil, 10, sqlRel)
	plan := appendMessageField(nil, 1, rel)
	b := appendRequestHeader(nil, sessionID, userID)
	b = appendMessageField(b, 3, plan)
	b = appendStringField(b, 4, clientType)
	return appendStringField(b, 6, opID)
}

// encodeInterruptRequest: InterruptRequest{session_id = 1,
// user_context = 2, client_type = 3, interrupt_type = 4,
// operation_id = 6}.
func encodeInterruptRequest(sessionID, userID, clientType, opID string) []byte {
	b := appendRequestHeader(nil, sessionID, userID)
	b = appendStringField(b, 3, clientType)
	b = protowire.AppendTag(b, 4, protowire.VarintType)
	b = protowire.AppendVarint(b, sparkInterruptTypeOperationID)
	return appendStringField(b, 6, opID)
}

// encodeReleaseSessionRequest: ReleaseSessionRequest{session_id = 1,
// user_context = 2, client_type = 3}.
func encodeReleaseSessionRequest(sessionID, userID, clientType string) []byte {
	b := appendRequestHeader(nil, sessionID, userID)
	return appendStringField(b, 3, clientType)
}

// executePlanResponse holds the ExecutePlanResponse fields the adapter
// reads: session_id = 1 and arrow_batch = 2 {data = 2}. Other response
// types (metrics, schema, result_complete, ...) are skipped.
type executePlanResponse struct {
	sessionID string
	arrowData []byte
}

var errSparkProto = errors.New("malformed Spark Connect response")

func decodeExecutePlanResponse(b []byte) (executePlanResponse, error) {
	var r executePlanResponse
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			r.sessionID = string(v)
		case num == 2 && typ == protowire.BytesType:
			return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				if num == 2 && typ == protowire.BytesType {
					r.arrowData = v
					if r.arrowData == nil {
						r.arrowData = []byte{}
					}
				}
				return nil
			})
		}
		return nil
	})
	return r, err
}

// decodeInterruptResponse returns interrupted_ids = 2.
func decodeInterruptResponse(b []byte) ([]string, error) {
	var ids []string
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num == 2 && typ == protowire.BytesType {
			ids = append(ids, string(v))
		}
		return nil
	})
	return ids, err
}

// eachField calls fn for every field of a message; v is the payload of
// length-delimited fields and nil otherwise.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", errSparkProto, protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		if typ == protowire.BytesType {
			v, n = protowire.ConsumeBytes(b)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: field %d: %v", errSparkProto, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v); err != nil {
			return err
		}
	}
	return nil
}

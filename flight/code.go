package flight

import "google.golang.org/grpc/codes"

// HandlerCode is the gRPC code the server sends the coordinator for a
// Handler error (PermissionDenied for a denial, InvalidArgument for a bad
// plan, …), for metrics that count outcomes the way the coordinator sees
// them.
func HandlerCode(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	return handlerStatus(err, "").Code()
}

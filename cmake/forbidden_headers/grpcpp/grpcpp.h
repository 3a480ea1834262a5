// Found first on the include path of the libraries that must not use
// grpc++ or protobuf (icsr_forbid_grpc in cmake/icsr.cmake).
#error "this library must not include grpc++ or protobuf headers: the gRPC bridge (grpc_bridge/) turns calls into signing_api requests"

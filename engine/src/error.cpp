// Conversion of exceptions into engine Errors.
#include "gesso/error.h"

#include <c10/util/Exception.h>

#include <new>

namespace gesso {

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument: return "invalid argument";
    case ErrorCode::FileNotFound: return "file not found";
    case ErrorCode::IoError: return "I/O error";
    case ErrorCode::InvalidFormat: return "invalid format";
    case ErrorCode::MissingKey: return "missing key";
    case ErrorCode::UnexpectedKey: return "unexpected key";
    case ErrorCode::ShapeMismatch: return "shape mismatch";
    case ErrorCode::UnsupportedDtype: return "unsupported dtype";
    case ErrorCode::ConfigError: return "config error";
    case ErrorCode::Cancelled: return "cancelled";
    case ErrorCode::OutOfMemory: return "out of memory";
    case ErrorCode::Internal: return "internal error";
  }
  return "error";
}

Error errorFromCurrentException() {
  try {
    throw;
  } catch (const GessoError& error) {
    return error.error();
  } catch (const c10::Error& error) {
    // Torch messages carry a long backtrace after the first line; keep the message itself.
    return {ErrorCode::Internal, std::string("torch: ") + error.what_without_backtrace()};
  } catch (const std::bad_alloc&) {
    return {ErrorCode::OutOfMemory, "memory allocation failed"};
  } catch (const std::exception& error) {
    return {ErrorCode::Internal, error.what()};
  } catch (...) {
    return {ErrorCode::Internal, "unknown exception"};
  }
}

}  // namespace gesso

// Errors as values at the engine boundary: an error code plus a detail that names the file, tensor, key or field.
// Inside the engine, code throws GessoError; public entry points convert every exception with captureErrors().
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace gesso {

enum class ErrorCode {
  InvalidArgument,
  FileNotFound,
  IoError,
  InvalidFormat,     // a file breaks its format's rules
  MissingKey,        // a tensor or field the model needs is absent
  UnexpectedKey,     // a tensor or field nobody knows what to do with
  ShapeMismatch,
  UnsupportedDtype,
  ConfigError,
  Cancelled,
  OutOfMemory,
  Internal,
};

const char* errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string detail;

  std::string message() const { return std::string(errorCodeName(code)) + ": " + detail; }
};

// Thrown inside the engine; never crosses the public boundary.
class GessoError : public std::runtime_error {
 public:
  GessoError(ErrorCode code, const std::string& detail) : std::runtime_error(detail), error_{code, detail} {}
  const Error& error() const { return error_; }

 private:
  Error error_;
};

[[noreturn]] inline void fail(ErrorCode code, const std::string& detail) { throw GessoError(code, detail); }

// A value or an Error (std::expected is C++23).
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}
  Expected(Error error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

struct Unit {};  // Expected<Unit> for operations that return nothing

// Maps any exception to an Error. Defined in error.cpp (where the LibTorch exception types are known).
Error errorFromCurrentException();

// Runs body() and returns its result, or the Error of whatever it threw.
template <class Body>
auto captureErrors(Body&& body) -> Expected<std::conditional_t<std::is_void_v<decltype(body())>, Unit, decltype(body())>> {
  try {
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
      return Unit{};
    } else {
      return body();
    }
  } catch (...) {
    return errorFromCurrentException();
  }
}

}  // namespace gesso

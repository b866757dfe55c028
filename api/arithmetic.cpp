#include "api/arithmetic.hpp"

#include "io/input_error.hpp"
#include "io/limits.hpp"

#include <stdexcept>

namespace iclcert::api {

std::string Arithmetic::label() const {
  switch (kind) {
    case Kind::double_: return "double";
    case Kind::rational: return "rational";
    case Kind::mpfr: return "mpfr:" + std::to_string(bits);
    case Kind::interval: return "interval:" + std::to_string(bits);
    case Kind::interval_mpfi: return "interval-mpfi:" + std::to_string(bits);
  }
  return "?";
}

namespace {

// The BITS of "PREFIX:BITS", or 0 when they are not decimal digits alone ("128abc",
// " 128" and "+128" are not) or too many of them.
long parse_bits(const std::string& digits) {
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stol(digits);
}

}  // namespace

Arithmetic parse_arithmetic(const std::string& text) {
  if (text == "double") return {Arithmetic::Kind::double_, 0};
  if (text == "rational") return {Arithmetic::Kind::rational, 0};
  for (const auto& [prefix, kind] : {std::pair{std::string("mpfr:"), Arithmetic::Kind::mpfr},
                                     std::pair{std::string("interval:"), Arithmetic::Kind::interval},
                                     std::pair{std::string("interval-mpfi:"), Arithmetic::Kind::interval_mpfi}}) {
    if (text.rfind(prefix, 0) != 0) continue;
    const long bits = parse_bits(text.substr(prefix.size()));
    if (bits < kMinMpfrBits || bits > kMaxMpfrBits)
      throw std::invalid_argument("--arith " + iclcert::detail::printable_name(text, 40) + ": expected " + prefix +
                                  "BITS with BITS from " + std::to_string(kMinMpfrBits) + " to " +
                                  std::to_string(kMaxMpfrBits));
    // Time and memory grow with the precision: a raisable limit below MPFR's own.
    if (static_cast<std::uint64_t>(bits) > limit(Limit::precision_bits))
      throw std::invalid_argument("--arith " + text + ": the precision " + beyond_limit(Limit::precision_bits, "bits"));
    return {kind, bits};
  }
  throw std::invalid_argument("--arith " + iclcert::detail::printable_name(text, 40) +
                              ": expected double, rational, mpfr:BITS, interval:BITS or interval-mpfi:BITS "
                              "(for example mpfr:256 or interval:128)");
}

}  // namespace iclcert::api

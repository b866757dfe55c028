#include "cli/arithmetic.hpp"

#include <stdexcept>

namespace iclcert::cli {

std::string Arithmetic::label() const {
  switch (kind) {
    case Kind::double_: return "double";
    case Kind::rational: return "rational";
    case Kind::mpfr: return "mpfr:" + std::to_string(bits);
  }
  return "?";
}

Arithmetic parse_arithmetic(const std::string& text) {
  if (text == "double") return {Arithmetic::Kind::double_, 0};
  if (text == "rational") return {Arithmetic::Kind::rational, 0};
  if (text.rfind("mpfr:", 0) == 0) {
    const std::string digits = text.substr(5);
    long bits = 0;
    try {
      std::size_t used = 0;
      bits = std::stol(digits, &used);
      if (used != digits.size()) bits = 0;
    } catch (const std::exception&) {
      bits = 0;
    }
    if (bits < kMinMpfrBits || bits > kMaxMpfrBits)
      throw std::invalid_argument("--arith " + text + ": expected mpfr:BITS with BITS from " +
                                  std::to_string(kMinMpfrBits) + " to " + std::to_string(kMaxMpfrBits));
    return {Arithmetic::Kind::mpfr, bits};
  }
  throw std::invalid_argument("--arith " + text + ": expected double, rational or mpfr:BITS (for example mpfr:256)");
}

}  // namespace iclcert::cli

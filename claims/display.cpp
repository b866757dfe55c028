#include "claims/display.hpp"

#include <mpfr.h>

#include <cstdio>

namespace iclcert::claims {

std::string directed_decimal(const Rational& value, bool upward) {
  mpfr_t x;
  mpfr_init2(x, 53);
  mpfr_set_q(x, value.backend().data(), upward ? MPFR_RNDU : MPFR_RNDD);
  char* text = nullptr;
  // MPFR's own printf honours the rounding direction given in the format.
  mpfr_asprintf(&text, upward ? "%.8RUg" : "%.8RDg", x);
  std::string out(text);
  mpfr_free_str(text);
  mpfr_clear(x);
  return out;
}

}  // namespace iclcert::claims

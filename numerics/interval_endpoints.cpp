#include "numerics/interval_endpoints.hpp"

#include <cmath>
#include <stdexcept>

namespace iclcert::detail {
namespace {

enum class Magnitude { zero, tiny, normal, huge, infinite };

Magnitude magnitude(mpfr_srcptr e) {
  if (mpfr_nan_p(e)) throw std::domain_error("an enclosure endpoint is NaN");
  if (mpfr_inf_p(e)) return Magnitude::infinite;
  if (mpfr_zero_p(e)) return Magnitude::zero;
  // |e| lies in [2^(exp-1), 2^exp).
  const mpfr_exp_t exp = mpfr_get_exp(e);
  if (exp <= -kEndpointExponentLimit) return Magnitude::tiny;
  if (exp - 1 >= kEndpointExponentLimit) return Magnitude::huge;
  return Magnitude::normal;
}

Rational power_of_two(long k) {
  Rational r(1);
  if (k >= 0) mpq_mul_2exp(r.backend().data(), r.backend().data(), static_cast<mp_bitcnt_t>(k));
  else mpq_div_2exp(r.backend().data(), r.backend().data(), static_cast<mp_bitcnt_t>(-k));
  return r;
}

Rational exact(mpfr_srcptr e) {
  Rational r;
  mpfr_get_q(r.backend().data(), e);
  return r;
}

[[noreturn]] void unbounded(const char* which) {
  throw std::domain_error(std::string("the enclosure is unbounded ") + which +
                          ": its endpoint has no finite rational bound");
}

// The bound in direction `upper` (true: >= e, false: <= e).
Rational bound(mpfr_srcptr e, bool upper) {
  const bool positive = mpfr_sgn(e) > 0;
  switch (magnitude(e)) {
    case Magnitude::zero: return Rational(0);
    case Magnitude::normal: return exact(e);
    case Magnitude::tiny:
      if (positive == upper) return positive ? power_of_two(-kEndpointExponentLimit)
                                             : Rational(-power_of_two(-kEndpointExponentLimit));
      return Rational(0);
    case Magnitude::huge:
      if (positive != upper) return positive ? power_of_two(kEndpointExponentLimit)
                                             : Rational(-power_of_two(kEndpointExponentLimit));
      break;
    case Magnitude::infinite: break;
  }
  unbounded(upper ? "above" : "below");
}

std::string decimal(mpfr_srcptr e, long digits, bool upper) {
  const Magnitude m = magnitude(e);
  const bool positive = mpfr_sgn(e) > 0;
  if ((m == Magnitude::infinite || m == Magnitude::huge) && positive == upper) return upper ? "+inf" : "-inf";
  const Rational q = bound(e, upper);
  if (q == 0) return "0";
  // q rounded in the outward direction to the printing precision, then printed
  // with the same directed rounding: both steps move away from the enclosure.
  const mpfr_rnd_t rnd = upper ? MPFR_RNDU : MPFR_RNDD;
  mpfr_t v;
  mpfr_init2(v, static_cast<mpfr_prec_t>(std::ceil(digits * 3.3219280948873622)) + 8);
  mpfr_set_q(v, q.backend().data(), rnd);
  char* text = nullptr;
  mpfr_asprintf(&text, upper ? "%.*RUe" : "%.*RDe", static_cast<int>(digits - 1), v);
  std::string out(text);
  mpfr_free_str(text);
  mpfr_clear(v);
  return out;
}

}  // namespace

Rational lower_endpoint_rational(mpfr_srcptr e) { return bound(e, false); }
Rational upper_endpoint_rational(mpfr_srcptr e) { return bound(e, true); }
std::string lower_endpoint_string(mpfr_srcptr e, long digits) { return decimal(e, digits, false); }
std::string upper_endpoint_string(mpfr_srcptr e, long digits) { return decimal(e, digits, true); }

long decimal_digits_for_bits(long bits) { return 1 + static_cast<long>(std::ceil(bits * 0.30102999566398120)); }

}  // namespace iclcert::detail

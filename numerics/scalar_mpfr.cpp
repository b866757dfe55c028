#include "numerics/scalar_mpfr.hpp"

#include <cmath>
#include <cstdlib>

namespace iclcert {

MpfrReal ScalarTraits<MpfrReal>::from_rational(const Rational& q) {
  MpfrReal r;
  mpfr_set_q(r.get(), q.backend().data(), MPFR_RNDN);
  return r;
}

MpfrReal ScalarTraits<MpfrReal>::exp(const MpfrReal& x) {
  MpfrReal r;
  mpfr_exp(r.get(), x.get(), MPFR_RNDN);
  return r;
}

Sign ScalarTraits<MpfrReal>::sign(const MpfrReal& x) {
  if (mpfr_nan_p(x.get())) return Sign::unknown;
  int s = mpfr_sgn(x.get());
  return s < 0 ? Sign::negative : (s > 0 ? Sign::positive : Sign::zero);
}

MpfrReal ScalarTraits<MpfrReal>::max(const MpfrReal& a, const MpfrReal& b) {
  return mpfr_less_p(a.get(), b.get()) ? b : a;
}

MpfrReal ScalarTraits<MpfrReal>::min(const MpfrReal& a, const MpfrReal& b) {
  return mpfr_less_p(b.get(), a.get()) ? b : a;
}

double ScalarTraits<MpfrReal>::to_double(const MpfrReal& x) { return mpfr_get_d(x.get(), MPFR_RNDN); }

std::string ScalarTraits<MpfrReal>::to_string(const MpfrReal& x) {
  if (mpfr_zero_p(x.get())) return "0";
  if (mpfr_inf_p(x.get())) return mpfr_sgn(x.get()) > 0 ? "+inf" : "-inf";
  if (mpfr_nan_p(x.get())) return "nan";
  // 1 + ceil(p log10 2) significant digits suffice to read the value back exactly.
  long digits = 1 + static_cast<long>(std::ceil(mpfr_get_prec(x.get()) * 0.30102999566398120));
  char* text = nullptr;
  mpfr_asprintf(&text, "%.*Re", static_cast<int>(digits - 1), x.get());
  std::string out(text);
  mpfr_free_str(text);
  return out;
}

}  // namespace iclcert

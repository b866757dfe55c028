#include "numerics/interval_mpfi.hpp"

#include "numerics/interval_endpoints.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace iclcert {
namespace {

mpfr_prec_t prec() { return static_cast<mpfr_prec_t>(working_precision_bits()); }

mpfr_srcptr left(const MpfiInterval& x) { return &x.get()->left; }
mpfr_srcptr right(const MpfiInterval& x) { return &x.get()->right; }

struct Mpfr {
  explicit Mpfr(mpfr_prec_t p = prec()) { mpfr_init2(v, p); }
  ~Mpfr() { mpfr_clear(v); }
  Mpfr(const Mpfr&) = delete;
  Mpfr& operator=(const Mpfr&) = delete;
  mpfr_t v;
};

long display_digits() { return detail::decimal_digits_for_bits(prec()); }

// r = op(a, b) at the working precision, whatever the precision of a.
template <class Op>
MpfiInterval& compound(MpfiInterval& a, const MpfiInterval& b, Op op) {
  if (mpfi_get_prec(a.get()) != prec()) {
    MpfiInterval r;
    op(r.get(), a.get(), b.get());
    a = std::move(r);
  } else {
    op(a.get(), a.get(), b.get());
  }
  return a;
}

}  // namespace

MpfiInterval::MpfiInterval() {
  mpfi_init2(value_, prec());
  mpfi_set_ui(value_, 0);
}
MpfiInterval::MpfiInterval(const MpfiInterval& other) {
  mpfi_init2(value_, mpfi_get_prec(other.value_));
  mpfi_set(value_, other.value_);
}
// A moved-from interval keeps a valid (tiny) mpfi_t for assignment and destruction.
MpfiInterval::MpfiInterval(MpfiInterval&& other) noexcept {
  mpfi_init2(value_, MPFR_PREC_MIN);
  mpfi_swap(value_, other.value_);
}
MpfiInterval& MpfiInterval::operator=(const MpfiInterval& other) {
  if (this != &other) {
    mpfi_set_prec(value_, mpfi_get_prec(other.value_));
    mpfi_set(value_, other.value_);
  }
  return *this;
}
MpfiInterval& MpfiInterval::operator=(MpfiInterval&& other) noexcept {
  mpfi_swap(value_, other.value_);
  return *this;
}
MpfiInterval::~MpfiInterval() { mpfi_clear(value_); }

MpfiInterval& MpfiInterval::operator+=(const MpfiInterval& b) { return compound(*this, b, mpfi_add); }
MpfiInterval& MpfiInterval::operator-=(const MpfiInterval& b) { return compound(*this, b, mpfi_sub); }
MpfiInterval& MpfiInterval::operator*=(const MpfiInterval& b) { return compound(*this, b, mpfi_mul); }
MpfiInterval& MpfiInterval::operator/=(const MpfiInterval& b) { return compound(*this, b, mpfi_div); }
MpfiInterval operator-(const MpfiInterval& a) {
  MpfiInterval r;
  mpfi_neg(r.value_, a.value_);
  return r;
}

using Traits = ScalarTraits<MpfiInterval>;

MpfiInterval Traits::from_rational(const Rational& q) {
  MpfiInterval r;
  mpfi_set_q(r.get(), q.backend().data());
  return r;
}

MpfiInterval Traits::exp(const MpfiInterval& x) {
  MpfiInterval r;
  mpfi_exp(r.get(), x.get());
  return r;
}

Sign Traits::sign(const MpfiInterval& x) {
  if (mpfi_nan_p(x.get())) return Sign::unknown;
  if (mpfi_is_zero(x.get()) > 0) return Sign::zero;
  if (mpfi_is_strictly_pos(x.get()) > 0) return Sign::positive;
  if (mpfi_is_strictly_neg(x.get()) > 0) return Sign::negative;
  return Sign::unknown;
}

// max over points: [max(left), max(right)]; min likewise. The endpoints are
// copied (mpfi_interv_fr rounds outward at the working precision).
MpfiInterval Traits::max(const MpfiInterval& a, const MpfiInterval& b) {
  if (mpfi_nan_p(a.get())) return a;
  if (mpfi_nan_p(b.get())) return b;
  MpfiInterval r;
  mpfi_interv_fr(r.get(), mpfr_greater_p(left(a), left(b)) ? left(a) : left(b),
                 mpfr_greater_p(right(a), right(b)) ? right(a) : right(b));
  return r;
}

MpfiInterval Traits::min(const MpfiInterval& a, const MpfiInterval& b) {
  if (mpfi_nan_p(a.get())) return a;
  if (mpfi_nan_p(b.get())) return b;
  MpfiInterval r;
  mpfi_interv_fr(r.get(), mpfr_less_p(left(a), left(b)) ? left(a) : left(b),
                 mpfr_less_p(right(a), right(b)) ? right(a) : right(b));
  return r;
}

MpfiInterval Traits::shift_point(const MpfiInterval& x) {
  Mpfr m(prec());
  mpfi_mid(m.v, x.get());
  MpfiInterval r;
  mpfi_set_fr(r.get(), m.v);  // exact: same precision
  return r;
}

double Traits::to_double(const MpfiInterval& x) {
  Mpfr m(std::max<mpfr_prec_t>(mpfi_get_prec(x.get()), 53));
  mpfi_mid(m.v, x.get());
  return mpfr_get_d(m.v, MPFR_RNDN);
}

std::string Traits::to_string(const MpfiInterval& x) { return detail::bracketed(lower_string(x), upper_string(x)); }

bool Traits::contains(const MpfiInterval& x, const Rational& q) {
  return !mpfi_nan_p(x.get()) && mpfi_is_inside_q(q.backend().data(), x.get()) > 0;
}

bool Traits::certainly_positive(const MpfiInterval& x) {
  return !mpfi_nan_p(x.get()) && mpfi_is_strictly_pos(x.get()) > 0;
}
bool Traits::certainly_negative(const MpfiInterval& x) {
  return !mpfi_nan_p(x.get()) && mpfi_is_strictly_neg(x.get()) > 0;
}
bool Traits::certainly_zero(const MpfiInterval& x) { return !mpfi_nan_p(x.get()) && mpfi_is_zero(x.get()) > 0; }
bool Traits::certainly_nonnegative(const MpfiInterval& x) {
  return !mpfi_nan_p(x.get()) && mpfi_is_nonneg(x.get()) > 0;
}
bool Traits::certainly_nonpositive(const MpfiInterval& x) {
  return !mpfi_nan_p(x.get()) && mpfi_is_nonpos(x.get()) > 0;
}

MpfiInterval Traits::hull(const MpfiInterval& a, const MpfiInterval& b) {
  MpfiInterval r;
  mpfi_union(r.get(), a.get(), b.get());
  return r;
}

MpfiInterval Traits::intersect(const MpfiInterval& a, const MpfiInterval& b) {
  MpfiInterval r;
  mpfi_intersect(r.get(), a.get(), b.get());
  if (mpfi_is_empty(r.get()))
    throw std::logic_error("intersect: disjoint enclosures of one value (an unsound computation upstream)");
  return r;
}

Rational Traits::lower(const MpfiInterval& x) { return detail::lower_endpoint_rational(left(x)); }
Rational Traits::upper(const MpfiInterval& x) { return detail::upper_endpoint_rational(right(x)); }
std::string Traits::lower_string(const MpfiInterval& x) {
  return detail::lower_endpoint_string(left(x), display_digits());
}
std::string Traits::upper_string(const MpfiInterval& x) {
  return detail::upper_endpoint_string(right(x), display_digits());
}

double Traits::width(const MpfiInterval& x) {
  if (mpfi_nan_p(x.get())) return NAN;
  Mpfr d(64);
  mpfr_sub(d.v, right(x), left(x), MPFR_RNDU);
  return mpfr_get_d(d.v, MPFR_RNDU);
}

// theory/softmax_enclosure.md, with MPFR endpoints rounded outward. MPFR's
// exponent range is bounded: exp of a huge difference has upper endpoint +inf
// (so the weight's lower bound is 0) and of a hugely negative one lower endpoint 0
// and a tiny positive upper endpoint; both stay sound.
std::vector<MpfiInterval> Traits::softmax(std::span<const MpfiInterval> scores) {
  const mpfr_prec_t p = prec();
  const std::size_t n = scores.size();
  std::vector<MpfiInterval> w(n);
  std::vector<Mpfr> lo(n), hi(n);  // at the working precision p
  const bool bounded = std::none_of(scores.begin(), scores.end(), [](const MpfiInterval& s) {
    return mpfi_nan_p(s.get()) || mpfi_inf_p(s.get());
  });
  if (!bounded) {
    // No term can be bounded: only [0, 1] and the row sum remain.
    for (std::size_t i = 0; i < n; ++i) {
      mpfr_set_zero(lo[i].v, 1);
      mpfr_set_ui(hi[i].v, 1, MPFR_RNDN);
    }
  } else {
    MpfiInterval delta, term;
    Mpfr lo_sum(p), hi_sum(p), t(p), one_plus(p);
    for (std::size_t i = 0; i < n; ++i) {
      // D_i = 1 + sum_{k != i} exp(s_k - s_i), in [lo_sum, hi_sum].
      mpfr_set_ui(lo_sum.v, 1, MPFR_RNDN);
      mpfr_set_ui(hi_sum.v, 1, MPFR_RNDN);
      for (std::size_t k = 0; k < n; ++k) {
        if (k == i) continue;
        mpfi_sub(delta.get(), scores[k].get(), scores[i].get());
        mpfi_exp(term.get(), delta.get());
        // exp(x) >= max(0, 1 + x), for x >= left(delta).
        mpfr_add_ui(one_plus.v, left(delta), 1, MPFR_RNDD);
        mpfr_max(t.v, left(term), one_plus.v, MPFR_RNDD);
        if (mpfr_sgn(t.v) > 0) mpfr_add(lo_sum.v, lo_sum.v, t.v, MPFR_RNDD);
        mpfr_add(hi_sum.v, hi_sum.v, right(term), MPFR_RNDU);
      }
      // w_i = 1 / D_i in [1 / hi_sum, 1 / lo_sum], within [0, 1] as D_i >= 1
      // (1 / +inf = +0 in MPFR).
      mpfr_ui_div(lo[i].v, 1, hi_sum.v, MPFR_RNDD);
      mpfr_ui_div(hi[i].v, 1, lo_sum.v, MPFR_RNDU);
    }
  }
  // The weights sum to 1: w_i in [1 - sum_{k != i} hi_k, 1 - sum_{k != i} lo_k].
  Mpfr others_lo(p), others_hi(p), a(p), b(p);
  for (std::size_t i = 0; i < n; ++i) {
    mpfr_set_zero(others_lo.v, 1);
    mpfr_set_zero(others_hi.v, 1);
    for (std::size_t k = 0; k < n; ++k) {
      if (k == i) continue;
      mpfr_add(others_lo.v, others_lo.v, lo[k].v, MPFR_RNDD);
      mpfr_add(others_hi.v, others_hi.v, hi[k].v, MPFR_RNDU);
    }
    mpfr_ui_sub(a.v, 1, others_hi.v, MPFR_RNDD);
    mpfr_ui_sub(b.v, 1, others_lo.v, MPFR_RNDU);
    mpfr_max(a.v, a.v, lo[i].v, MPFR_RNDD);
    mpfr_min(b.v, b.v, hi[i].v, MPFR_RNDU);
    if (mpfr_greater_p(a.v, b.v))
      throw std::logic_error("softmax enclosure: the row-sum bound is disjoint from the weight bound");
    mpfi_interv_fr(w[i].get(), a.v, b.v);
  }
  return w;
}

}  // namespace iclcert

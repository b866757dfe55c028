#include "numerics/interval_arb.hpp"

#include "numerics/interval_endpoints.hpp"

#include <flint/fmpq.h>

#include <algorithm>
#include <stdexcept>

namespace iclcert {
namespace {

slong prec() { return working_precision_bits(); }

struct Arf {
  Arf() { arf_init(v); }
  ~Arf() { arf_clear(v); }
  Arf(const Arf&) = delete;
  Arf& operator=(const Arf&) = delete;
  arf_t v;
};

struct Fmpq {
  explicit Fmpq(const Rational& q) {
    fmpq_init(v);
    fmpq_set_mpq(v, q.backend().data());
  }
  ~Fmpq() { fmpq_clear(v); }
  Fmpq(const Fmpq&) = delete;
  Fmpq& operator=(const Fmpq&) = delete;
  fmpq_t v;
};

// Bits with which mid -+ rad is exact: the midpoint's bits, the radius's 30 and
// the exponent gap between them. A gap beyond the endpoint limit is capped: the
// endpoint is then rounded outward by arb_get_lbound_arf / arb_get_ubound_arf,
// which is sound, instead of being held in millions of bits.
slong exact_endpoint_bits(const arb_t x) {
  const slong base = static_cast<slong>(arf_bits(arb_midref(x))) + MAG_BITS + 4;
  if (arf_is_zero(arb_midref(x)) || mag_is_zero(arb_radref(x))) return base;
  fmpz_t gap;
  fmpz_init(gap);
  fmpz_sub(gap, ARF_EXPREF(arb_midref(x)), MAG_EXPREF(arb_radref(x)));
  fmpz_abs(gap, gap);
  const slong g = fmpz_cmp_si(gap, detail::kEndpointExponentLimit) > 0 ? detail::kEndpointExponentLimit
                                                                         : fmpz_get_si(gap);
  fmpz_clear(gap);
  return base + g;
}

// The lower (upper) endpoint of x as an MPFR value for the shared endpoint code:
// exact in the ordinary range; beyond it (where Arb's exponents exceed MPFR's)
// a stand-in of the same sign and magnitude class, which detail:: treats alike.
struct Endpoint {
  Endpoint(const arb_t x, bool upper) {
    mpfr_init2(v, 2);
    // Arb's indeterminate result (of 1 / [-1, 1], say) is [NaN +- inf]: the whole line.
    if (mag_is_inf(arb_radref(x)) || arf_is_nan(arb_midref(x))) {
      mpfr_set_inf(v, upper ? 1 : -1);
      return;
    }
    if (arf_is_inf(arb_midref(x))) {
      mpfr_set_inf(v, arf_sgn(arb_midref(x)));
      return;
    }
    Arf e;
    if (upper) arb_get_ubound_arf(e.v, x, exact_endpoint_bits(x));
    else arb_get_lbound_arf(e.v, x, exact_endpoint_bits(x));
    const long limit = detail::kEndpointExponentLimit;
    if (arf_is_zero(e.v)) {
      mpfr_set_zero(v, 1);
    } else if (arf_cmpabs_2exp_si(e.v, -limit - 2) < 0) {
      mpfr_set_si_2exp(v, arf_sgn(e.v), -limit - 4, MPFR_RNDN);
    } else if (arf_cmpabs_2exp_si(e.v, limit + 2) > 0) {
      mpfr_set_si_2exp(v, arf_sgn(e.v), limit + 4, MPFR_RNDN);
    } else {
      mpfr_set_prec(v, std::max<mpfr_prec_t>(2, static_cast<mpfr_prec_t>(arf_bits(e.v))));
      arf_get_mpfr(v, e.v, MPFR_RNDN);  // exact: the precision holds every bit
    }
  }
  ~Endpoint() { mpfr_clear(v); }
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;
  mpfr_t v;
};

long display_digits() { return detail::decimal_digits_for_bits(prec()); }

// A radius >= |t|, equal to |t| when t has at most MAG_BITS bits (arf_get_mag
// always adds an ulp, which would push [0, w] below 0).
void mag_upper(mag_t out, const arf_t t) {
  Arf u;
  arf_set_round(u.v, t, MAG_BITS, ARF_RND_UP);
  fmpz_t man, exp;
  fmpz_init(man);
  fmpz_init(exp);
  arf_get_fmpz_2exp(man, exp, u.v);
  fmpz_abs(man, man);
  if (arf_is_finite(u.v) && fmpz_fits_si(exp) && fmpz_abs_fits_ui(man))
    mag_set_ui_2exp_si(out, fmpz_get_ui(man), fmpz_get_si(exp));
  else
    arf_get_mag(out, t);
  fmpz_clear(man);
  fmpz_clear(exp);
}

// Sets x to a ball containing [a, b] (0 <= a <= b), with the end nearer to the
// weights' natural bounds kept exact where possible: the lower one (so a >= 0
// stays certain), or the upper one for a >= 1/2 (so b <= 1 does).
// arb_set_interval_arf rounds both ends outward, which turns [0, w] into
// [-2^-30 w, ...].
void set_ball_containing(arb_t x, const arf_t a_in, const arf_t b, slong p) {
  const slong bits = p + MAG_BITS + 64;
  Arf a, t, mid, r, r2;
  arf_set(a.v, a_in);
  // A positive lower end below b's precision is dropped to 0 (outward), so that
  // the sums below stay exact.
  if (arf_sgn(a.v) > 0 && !arf_is_zero(b)) {
    arf_mul_2exp_si(t.v, b, -bits);
    if (arf_cmp(a.v, t.v) < 0) arf_zero(a.v);
  }
  // r >= (b - a) / 2, with MAG_BITS bits.
  arf_sub(t.v, b, a.v, bits, ARF_RND_UP);
  arf_mul_2exp_si(t.v, t.v, -1);
  arf_set_round(r.v, t.v, MAG_BITS, ARF_RND_UP);
  Arf half;
  arf_set_si_2exp_si(half.v, 1, -1);
  if (arf_cmp(a.v, half.v) >= 0) arf_sub(mid.v, b, r.v, bits, ARF_RND_NEAR);
  else arf_add(mid.v, a.v, r.v, bits, ARF_RND_NEAR);
  // The radius covers both ends from the (possibly rounded) midpoint; it is r
  // itself when the midpoint was exact.
  arf_sub(r.v, mid.v, a.v, bits, ARF_RND_UP);
  arf_sub(r2.v, b, mid.v, bits, ARF_RND_UP);
  arf_max(r.v, r.v, r2.v);
  arf_swap(arb_midref(x), mid.v);
  mag_upper(arb_radref(x), r.v);
}

}  // namespace

ArbBall& ArbBall::operator+=(const ArbBall& b) {
  arb_add(value_, value_, b.value_, prec());
  return *this;
}
ArbBall& ArbBall::operator-=(const ArbBall& b) {
  arb_sub(value_, value_, b.value_, prec());
  return *this;
}
ArbBall& ArbBall::operator*=(const ArbBall& b) {
  arb_mul(value_, value_, b.value_, prec());
  return *this;
}
ArbBall& ArbBall::operator/=(const ArbBall& b) {
  arb_div(value_, value_, b.value_, prec());
  return *this;
}
ArbBall operator-(const ArbBall& a) {
  ArbBall r;
  arb_neg(r.value_, a.value_);
  return r;
}
ArbBall operator+(const ArbBall& a, const ArbBall& b) {
  ArbBall r;
  arb_add(r.value_, a.value_, b.value_, prec());
  return r;
}
ArbBall operator-(const ArbBall& a, const ArbBall& b) {
  ArbBall r;
  arb_sub(r.value_, a.value_, b.value_, prec());
  return r;
}
ArbBall operator*(const ArbBall& a, const ArbBall& b) {
  ArbBall r;
  arb_mul(r.value_, a.value_, b.value_, prec());
  return r;
}
ArbBall operator/(const ArbBall& a, const ArbBall& b) {
  ArbBall r;
  arb_div(r.value_, a.value_, b.value_, prec());
  return r;
}

using Traits = ScalarTraits<ArbBall>;

ArbBall Traits::from_rational(const Rational& q) {
  ArbBall r;
  Fmpq f(q);
  arb_set_fmpq(r.get(), f.v, prec());
  return r;
}

ArbBall Traits::exp(const ArbBall& x) {
  ArbBall r;
  arb_exp(r.get(), x.get(), prec());
  return r;
}

Sign Traits::sign(const ArbBall& x) {
  if (arb_is_zero(x.get())) return Sign::zero;
  if (arb_is_positive(x.get())) return Sign::positive;
  if (arb_is_negative(x.get())) return Sign::negative;
  return Sign::unknown;
}

ArbBall Traits::max(const ArbBall& a, const ArbBall& b) {
  ArbBall r;
  arb_max(r.get(), a.get(), b.get(), prec());
  return r;
}

ArbBall Traits::min(const ArbBall& a, const ArbBall& b) {
  ArbBall r;
  arb_min(r.get(), a.get(), b.get(), prec());
  return r;
}

ArbBall Traits::shift_point(const ArbBall& x) {
  ArbBall r;
  arb_get_mid_arb(r.get(), x.get());
  return r;
}

double Traits::to_double(const ArbBall& x) { return arf_get_d(arb_midref(x.get()), ARF_RND_NEAR); }

std::string Traits::to_string(const ArbBall& x) { return detail::bracketed(lower_string(x), upper_string(x)); }

bool Traits::contains(const ArbBall& x, const Rational& q) {
  Fmpq f(q);
  return arb_contains_fmpq(x.get(), f.v) != 0;
}

bool Traits::certainly_positive(const ArbBall& x) { return arb_is_positive(x.get()) != 0; }
bool Traits::certainly_negative(const ArbBall& x) { return arb_is_negative(x.get()) != 0; }
bool Traits::certainly_zero(const ArbBall& x) { return arb_is_zero(x.get()) != 0; }
bool Traits::certainly_nonnegative(const ArbBall& x) { return arb_is_nonnegative(x.get()) != 0; }
bool Traits::certainly_nonpositive(const ArbBall& x) { return arb_is_nonpositive(x.get()) != 0; }

ArbBall Traits::hull(const ArbBall& a, const ArbBall& b) {
  ArbBall r;
  arb_union(r.get(), a.get(), b.get(), prec());
  return r;
}

ArbBall Traits::intersect(const ArbBall& a, const ArbBall& b) {
  ArbBall r;
  if (!arb_intersection(r.get(), a.get(), b.get(), prec()))
    throw std::logic_error("intersect: disjoint enclosures of one value (an unsound computation upstream)");
  return r;
}

Rational Traits::lower(const ArbBall& x) { return detail::lower_endpoint_rational(Endpoint(x.get(), false).v); }
Rational Traits::upper(const ArbBall& x) { return detail::upper_endpoint_rational(Endpoint(x.get(), true).v); }
std::string Traits::lower_string(const ArbBall& x) {
  return detail::lower_endpoint_string(Endpoint(x.get(), false).v, display_digits());
}
std::string Traits::upper_string(const ArbBall& x) {
  return detail::upper_endpoint_string(Endpoint(x.get(), true).v, display_digits());
}

double Traits::width(const ArbBall& x) {
  if (!arb_is_finite(x.get())) return HUGE_VAL;
  return 2 * mag_get_d(arb_radref(x.get()));  // mag_get_d rounds up; doubling is exact
}

// theory/softmax_enclosure.md. Endpoints are arf numbers (arbitrary exponents, so
// weights like 2^(-1.4e11) stay positive and finite), each sum and quotient
// rounded in the direction that keeps the bound outward.
std::vector<ArbBall> Traits::softmax(std::span<const ArbBall> scores) {
  const slong p = prec();
  const std::size_t n = scores.size();
  std::vector<ArbBall> w(n);
  std::vector<Arf> lo(n), hi(n);
  const bool finite =
      std::all_of(scores.begin(), scores.end(), [](const ArbBall& s) { return arb_is_finite(s.get()) != 0; });
  if (!finite) {
    // No term can be bounded: only [0, 1] and the row sum remain.
    for (std::size_t i = 0; i < n; ++i) {
      arf_zero(lo[i].v);
      arf_one(hi[i].v);
    }
  } else {
    ArbBall delta, term;
    Arf lo_sum, hi_sum, t, one_plus;
    for (std::size_t i = 0; i < n; ++i) {
      // D_i = 1 + sum_{k != i} exp(s_k - s_i), in [lo_sum, hi_sum].
      arf_one(lo_sum.v);
      arf_one(hi_sum.v);
      for (std::size_t k = 0; k < n; ++k) {
        if (k == i) continue;
        arb_sub(delta.get(), scores[k].get(), scores[i].get(), p);
        arb_exp(term.get(), delta.get(), p);
        // exp(x) >= max(0, 1 + x): keeps a useful lower bound where Arb's exp of a
        // huge argument is [0 +- inf].
        arb_get_lbound_arf(t.v, term.get(), p);
        arb_get_lbound_arf(one_plus.v, delta.get(), p);
        arf_add_ui(one_plus.v, one_plus.v, 1, p, ARF_RND_FLOOR);
        arf_max(t.v, t.v, one_plus.v);
        if (arf_sgn(t.v) > 0) arf_add(lo_sum.v, lo_sum.v, t.v, p, ARF_RND_FLOOR);
        arb_get_ubound_arf(t.v, term.get(), p);
        arf_add(hi_sum.v, hi_sum.v, t.v, p, ARF_RND_CEIL);
      }
      // w_i = 1 / D_i in [1 / hi_sum, 1 / lo_sum], a subset of [0, 1] as D_i >= 1.
      if (arf_is_pos_inf(hi_sum.v)) arf_zero(lo[i].v);
      else arf_ui_div(lo[i].v, 1, hi_sum.v, p, ARF_RND_FLOOR);
      arf_ui_div(hi[i].v, 1, lo_sum.v, p, ARF_RND_CEIL);
    }
  }
  // The weights sum to 1: w_i in [1 - sum_{k != i} hi_k, 1 - sum_{k != i} lo_k].
  {
    Arf others_lo, others_hi, a, b;
    for (std::size_t i = 0; i < n; ++i) {
      arf_zero(others_lo.v);
      arf_zero(others_hi.v);
      for (std::size_t k = 0; k < n; ++k) {
        if (k == i) continue;
        arf_add(others_lo.v, others_lo.v, lo[k].v, p, ARF_RND_FLOOR);
        arf_add(others_hi.v, others_hi.v, hi[k].v, p, ARF_RND_CEIL);
      }
      arf_one(a.v);
      arf_sub(a.v, a.v, others_hi.v, p, ARF_RND_FLOOR);
      arf_one(b.v);
      arf_sub(b.v, b.v, others_lo.v, p, ARF_RND_CEIL);
      arf_max(a.v, a.v, lo[i].v);
      arf_min(b.v, b.v, hi[i].v);
      if (arf_cmp(a.v, b.v) > 0)
        throw std::logic_error("softmax enclosure: the row-sum bound is disjoint from the weight bound");
      set_ball_containing(w[i].get(), a.v, b.v, p);
    }
  }
  return w;
}

}  // namespace iclcert

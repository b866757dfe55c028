#include "gpu/batch_model.hpp"

#include <mpfr.h>


namespace iclcert::gpu {

float nearest_float(const Rational& q) {
  mpfr_t x;
  mpfr_init2(x, 24);
  mpfr_set_q(x, q.backend().data(), MPFR_RNDN);
  const float f = mpfr_get_flt(x, MPFR_RNDN);
  mpfr_clear(x);
  return f;
}

template <class T>
BatchModel<T> make_batch_model(const Model& model, int d, int C) {
  return flatten_model<T>(model, d, C, [](const Rational& q) { return round_to<T>(q); });
}

template BatchModel<float> make_batch_model<float>(const Model&, int, int);
template BatchModel<double> make_batch_model<double>(const Model&, int, int);

}  // namespace iclcert::gpu

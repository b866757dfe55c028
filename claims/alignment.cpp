#include "claims/alignment.hpp"

#include "numerics/interval_arb.hpp"
#include "numerics/interval_mpfi.hpp"

#include <arb.h>
#include <mpfi.h>

namespace iclcert::claims {

Rational label_growth_bound(const Model& m) {
  if (m.kernel != Kernel::softmax)
    throw ClaimInputError("C1 needs the softmax kernel: its convex attention weights are what bound the "
                          "alignment's range, which the confidence bound needs");
  Rational B = 1;
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const auto* r = std::get_if<ReducedLayer<Rational>>(&m.layers[l]);
    if (!r)
      throw ClaimInputError("C1 needs reduced layers (layer " + std::to_string(l + 1) +
                            " is not): full and dense layers mix features into labels, and no certified range "
                            "of the alignment is known for them");
    Rational a = abs(r->train.alpha_label);
    if (r->probe && abs(r->probe->alpha_label) > a) a = abs(r->probe->alpha_label);
    B *= 1 + a;
  }
  return B;
}

template <>
ArbBall hoeffding_radius<ArbBall>(const Rational& delta, int samples) {
  ArbBall inv = ScalarTraits<ArbBall>::from_rational(1 / delta), r;
  arb_log(r.get(), inv.get(), working_precision_bits());
  r /= ScalarTraits<ArbBall>::from_rational(Rational(2 * samples));
  arb_sqrt(r.get(), r.get(), working_precision_bits());
  return r;
}

template <>
MpfiInterval hoeffding_radius<MpfiInterval>(const Rational& delta, int samples) {
  MpfiInterval inv = ScalarTraits<MpfiInterval>::from_rational(1 / delta), r;
  mpfi_log(r.get(), inv.get());
  r /= ScalarTraits<MpfiInterval>::from_rational(Rational(2 * samples));
  mpfi_sqrt(r.get(), r.get());
  return r;
}

}  // namespace iclcert::claims

// The enclosure forms of R1's sub-box evaluation (claims/robustness.hpp) and their
// names, in one place: --form's choices, a verdict file's "form", parse_form.
#pragma once

#include <array>

namespace iclcert::claims {

// plain: interval evaluation of the whole sub-box only; centred: then the centred
// form and the monotonicity test; affine: then the affine form (numerics/affine.hpp),
// and the centred form and the monotonicity test where that is still undecided;
// taylor2 (taylor3): then the second-order (third-order) Taylor form alone. The
// centred run after those decided nothing more on issue 26's maps (the same
// fractions on the alpha and the 2-D map) and took a quarter of the time.
enum class EnclosureForm { plain, centred, affine, taylor2, taylor3 };
// Their names, in the enum's order.
inline constexpr std::array<const char*, 5> kEnclosureFormNames = {"plain", "centred", "affine", "taylor2", "taylor3"};

}  // namespace iclcert::claims

// RapidCheck generators for the inputs of the recursion (issue 4, part 1).
//
// Shrinking goes toward simple inputs: small d, C, N, the identity permutation,
// coefficients 0 or small fractions with small denominators, magnitude 1, the
// generic prompt shape. Values that RapidCheck would scale by its "size" (which
// starts at 0 and stays small for most cases) are drawn uniformly here instead,
// sizes included, so that every case may reach N = max_N and magnitudes 1e-8 or 1e8.
#pragma once

#include "numerics/model.hpp"
#include "numerics/prompt.hpp"
#include "properties/group_action.hpp"

#include <rapidcheck.h>

namespace iclcert::properties {

// Uniform in [lo, hi], independent of the size; shrinks toward `target` (in range).
rc::Gen<long> integer_toward(long lo, long hi, long target);

// A rational a / q away from target in [lo, hi], q <= max_den; target is 0 when 0
// is in range, else the endpoint nearest 0. Shrinks toward denominator 1, then
// toward target.
rc::Gen<Rational> ranged_rational(const Rational& lo, const Rational& hi, long max_den = 64);

// A double in [lo, hi], target +- a 2^-k (k <= 30), read
// exactly as a Rational by every arithmetic; shrinks like ranged_rational.
rc::Gen<double> ranged_dyadic(double lo, double hi);

// A permutation of 0..n-1 from its Lehmer code; shrinks toward the identity.
rc::Gen<Permutation> permutation(int n);

// An element of the given factor (other factors the identity); `composed` draws all three.
rc::Gen<GroupElement> group_element(int d, int C, int N, PermutationKind kind);

// Prompt shapes: the hard cases of the no-margin regime.
enum class PromptShape {
  generic,             // labels arbitrary
  near_boundary,       // labels from a task W, every point within 1e-12 of a decision boundary
  duplicates,          // some points repeated (same label or not)
  single_point_class,  // class 0 has exactly one point
  collinear,           // all points on one line
};
const char* to_string(PromptShape shape);

struct PromptSpec {
  int min_d = 1, max_d = 4;
  int min_C = 2, max_C = 4;
  int min_N = 1, max_N = 8;
  bool balanced = false;  // N a multiple of C, N / C points per class
};

// Sizes uniform in their ranges; entries are ranged rationals times 10^e,
// e in [-8, 8] (one scale per prompt).
rc::Gen<Prompt> prompt(const PromptSpec& spec);
rc::Gen<Prompt> prompt_of_size(int d, int C, int N, bool balanced);

struct ModelSpec {
  enum class Kernels { linear, softmax, both } kernels = Kernels::linear;
  int max_layers = 2;
  int max_heads = 4;
  bool reduced = true, full = true, dense_equivariant = true;
  bool probe_overrides = true;   // reduced layers may carry probe coefficients
  bool vary_probe_options = true;  // probe_label_init and probe_is_key drawn, else defaults
};

rc::Gen<ReducedLayer<Rational>> reduced_layer(bool probe_overrides);
rc::Gen<FullLayer<Rational>> full_layer(int max_heads);
// Dense heads built from M(theta): equivariant by construction.
rc::Gen<DenseLayer<Rational>> equivariant_dense_layer(int d, int C, int max_heads);
// M(theta) with one entry moved by delta (delta = +-1e-3 or a ranged rational).
rc::Gen<Matrix<Rational>> perturbed_matrix(int d, int C);
rc::Gen<Model> model(const ModelSpec& spec, int d, int C);

// The hypotheses of claim A1: reduced layers with beta = 0 < gamma, alpha > 0,
// alpha' >= 0, softmax, training keys only.
rc::Gen<Model> a1_model(int max_layers);

}  // namespace iclcert::properties

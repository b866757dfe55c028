#include "claims/equivariance.hpp"

#include "numerics/sampler.hpp"

#include <algorithm>
#include <numeric>

namespace iclcert::claims {
namespace {

std::vector<int> identity(int n) {
  std::vector<int> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::vector<int> inverse(const std::vector<int>& p) {
  std::vector<int> inv(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) inv[p[i]] = static_cast<int>(i);
  return inv;
}

// Fisher-Yates with the project's generator, so compositions are reproducible.
std::vector<int> shuffled(int n, Xoshiro256& rng) {
  std::vector<int> v = identity(n);
  for (int i = n - 1; i > 0; --i) std::swap(v[i], v[static_cast<int>(rng.next() % static_cast<std::uint64_t>(i + 1))]);
  return v;
}

Matrix<Rational> diagonal(int d, int C, const Rational& a, const Rational& b) {
  Matrix<Rational> m(d + C, d + C, Rational(0));
  for (int k = 0; k < d + C; ++k) m(k, k) = k < d ? a : b;
  return m;
}

// (P^T S P)_{rc} = S_{p(r) p(c)} for the permutation matrix of a transposition p.
bool commutes(const Matrix<Rational>& S, const std::vector<int>& p) {
  for (std::size_t r = 0; r < S.rows(); ++r)
    for (std::size_t c = 0; c < S.cols(); ++c)
      if (S(p[r], p[c]) != S(r, c)) return false;
  return true;
}

// Score and value matrices of every head and row kind of a layer, with names.
std::vector<std::pair<std::string, Matrix<Rational>>> layer_maps(const Layer<Rational>& layer, int d, int C) {
  std::vector<std::pair<std::string, Matrix<Rational>>> out;
  if (const auto* r = std::get_if<ReducedLayer<Rational>>(&layer)) {
    auto add = [&](const std::string& who, const ReducedCoefficients<Rational>& c) {
      out.push_back({who + " score", diagonal(d, C, c.beta, c.gamma)});
      out.push_back({who + " value", diagonal(d, C, c.alpha, c.alpha_label)});
    };
    add("training-row", r->train);
    if (r->probe) add("probe-row", *r->probe);
  } else if (const auto* f = std::get_if<FullLayer<Rational>>(&layer)) {
    for (std::size_t h = 0; h < f->heads.size(); ++h) {
      out.push_back({"head " + std::to_string(h) + " score", equivariant_matrix(f->heads[h].score, d, C)});
      out.push_back({"head " + std::to_string(h) + " value", equivariant_matrix(f->heads[h].value, d, C)});
    }
  } else {
    const auto& dense = std::get<DenseLayer<Rational>>(layer);
    for (std::size_t h = 0; h < dense.heads.size(); ++h) {
      out.push_back({"head " + std::to_string(h) + " score_matrix", dense.heads[h].score});
      out.push_back({"head " + std::to_string(h) + " value_matrix", dense.heads[h].value});
    }
  }
  return out;
}

}  // namespace

std::vector<GroupElement> probe_elements(const Prompt& p, std::uint64_t seed) {
  std::vector<GroupElement> out;
  const auto id_d = identity(p.d), id_c = identity(p.C), id_n = identity(p.N);
  if (p.d >= 2) {
    auto pi = id_d;
    std::swap(pi[0], pi[1]);
    out.push_back({"feature transposition (0 1)", pi, id_c, id_n});
  }
  auto sigma = id_c;
  std::swap(sigma[0], sigma[1]);
  out.push_back({"label transposition (0 1)", id_d, sigma, id_n});
  if (p.N >= 2) {
    auto tau = id_n;
    std::swap(tau[0], tau[p.N - 1]);
    out.push_back({"token transposition (0 " + std::to_string(p.N - 1) + ")", id_d, id_c, tau});
  }
  Xoshiro256 rng(seed);
  out.push_back({"composition (seed " + std::to_string(seed) + ")", shuffled(p.d, rng), shuffled(p.C, rng),
                 shuffled(p.N, rng)});
  return out;
}

Prompt act_on_prompt(const GroupElement& g, const Prompt& p) {
  Prompt q = p;
  const auto sigma_inv = inverse(g.sigma);
  for (int j = 0; j < p.N; ++j) {
    for (int k = 0; k < p.d; ++k) q.X(j, k) = p.X(g.tau[j], g.pi[k]);
    q.labels[j] = sigma_inv[p.labels[g.tau[j]]];
  }
  for (int k = 0; k < p.d; ++k) q.probe[k] = p.probe[g.pi[k]];
  if (p.probe_label) q.probe_label = sigma_inv[*p.probe_label];
  return q;
}

std::string structural_equivariance_failure(const Model& m, int d, int C) {
  std::vector<std::pair<std::string, std::vector<int>>> generators;
  for (int k = 0; k + 1 < d; ++k) {
    auto p = identity(d + C);
    std::swap(p[k], p[k + 1]);
    generators.push_back({"feature transposition (" + std::to_string(k) + " " + std::to_string(k + 1) + ")", p});
  }
  for (int c = 0; c + 1 < C; ++c) {
    auto p = identity(d + C);
    std::swap(p[d + c], p[d + c + 1]);
    generators.push_back({"label transposition (" + std::to_string(c) + " " + std::to_string(c + 1) + ")", p});
  }
  for (std::size_t l = 0; l < m.layers.size(); ++l)
    for (const auto& [name, matrix] : layer_maps(m.layers[l], d, C))
      for (const auto& [gname, perm] : generators)
        if (!commutes(matrix, perm))
          return "layer " + std::to_string(l + 1) + " " + name + " does not commute with the " + gname;
  return "";
}

Model full_form_of(const Model& reduced, int d, int C) {
  Model full = reduced;
  full.layers.clear();
  for (std::size_t l = 0; l < reduced.layers.size(); ++l) {
    const auto* r = std::get_if<ReducedLayer<Rational>>(&reduced.layers[l]);
    if (!r) throw ClaimInputError("E2 compares reduced layers with their full form: layer " + std::to_string(l + 1) +
                                  " is not reduced");
    if (r->probe)
      throw ClaimInputError("E2: layer " + std::to_string(l + 1) +
                            " has probe overrides, which the one-head full form cannot express");
    const Rational z = 0;
    const Theta<Rational> kappa{r->train.beta, z, z, z, r->train.gamma, z};
    const Theta<Rational> nu{r->train.alpha, z, z, z, r->train.alpha_label, z};
    if (!(equivariant_matrix(kappa, d, C) == diagonal(d, C, r->train.beta, r->train.gamma)) ||
        !(equivariant_matrix(nu, d, C) == diagonal(d, C, r->train.alpha, r->train.alpha_label)))
      throw std::logic_error("M(theta) does not reduce to a diagonal at layer " + std::to_string(l + 1));
    // In place: moving a FullLayer variant in makes g++ 12 warn (-Wmaybe-uninitialized,
    // falsely) about the ReducedLayer alternative's optional.
    full.layers.emplace_back(std::in_place_type<FullLayer<Rational>>, FullLayer<Rational>{{{kappa, nu}}});
  }
  return full;
}

}  // namespace iclcert::claims

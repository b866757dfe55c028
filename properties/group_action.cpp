#include "properties/group_action.hpp"

#include <numeric>

namespace iclcert::properties {

Permutation identity_permutation(int n) {
  Permutation p(n);
  std::iota(p.begin(), p.end(), 0);
  return p;
}

bool is_identity(const Permutation& p) {
  for (std::size_t i = 0; i < p.size(); ++i)
    if (p[i] != static_cast<int>(i)) return false;
  return true;
}

bool is_permutation(const Permutation& p, int n) {
  if (static_cast<int>(p.size()) != n) return false;
  std::vector<bool> seen(n, false);
  for (int v : p) {
    if (v < 0 || v >= n || seen[v]) return false;
    seen[v] = true;
  }
  return true;
}

std::string to_string(const Permutation& p) {
  std::string s = "[";
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(p[i]);
  }
  return s + "]";
}

const char* to_string(PermutationKind kind) {
  switch (kind) {
    case PermutationKind::feature: return "feature";
    case PermutationKind::label: return "label";
    case PermutationKind::token: return "token";
    case PermutationKind::composed: return "composed";
  }
  return "?";
}

GroupElement GroupElement::identity(int d, int C, int N) {
  return {identity_permutation(d), identity_permutation(C), identity_permutation(N)};
}

std::string GroupElement::kind() const {
  std::string s;
  auto add = [&](const Permutation& p, const char* name) {
    if (is_identity(p)) return;
    if (!s.empty()) s += '+';
    s += name;
  };
  add(features, "feature");
  add(labels, "label");
  add(tokens, "token");
  return s.empty() ? "identity" : s;
}

Prompt act(const GroupElement& g, const Prompt& p) {
  Prompt out = p;
  for (int i = 0; i < p.N; ++i) {
    for (int k = 0; k < p.d; ++k) out.X(g.tokens[i], g.features[k]) = p.X(i, k);
    out.labels[g.tokens[i]] = g.labels[p.labels[i]];
  }
  for (int k = 0; k < p.d; ++k) out.probe[g.features[k]] = p.probe[k];
  if (p.probe_label) out.probe_label = g.labels[*p.probe_label];
  return out;
}

}  // namespace iclcert::properties

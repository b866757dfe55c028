// Moved to api/trace_table.hpp (issue 24): the per-layer table of a run.
#pragma once

#include "api/trace_table.hpp"

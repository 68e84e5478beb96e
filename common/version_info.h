#pragma once
namespace muster {
inline constexpr const char* product_version = "0.1.0";
}

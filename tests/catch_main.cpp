// The shared Catch2 entry point for every test executable.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

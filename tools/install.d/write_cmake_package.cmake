# Writes the CMake package of an installed tubo (run by tools/install):
#   cmake -DDEST=PREFIX/lib/cmake/tubo -DVERSION=1.2.0 -DABSL_VERSION=20220623 \
#         -DABSL_TARGETS="absl::status;absl::strings;..." -DSIZEOF_VOID_P=8 \
#         -P tools/install.d/write_cmake_package.cmake
# tuboConfig.cmake and tuboTargets.cmake come from the templates next to this
# script; tuboConfigVersion.cmake from CMake's own write_basic_package_version_file
# (SameMajorVersion: a request for 1.x accepts this version if it is not older).
cmake_minimum_required(VERSION 3.16)
foreach(var IN ITEMS DEST VERSION ABSL_VERSION ABSL_TARGETS SIZEOF_VOID_P)
  if("${${var}}" STREQUAL "")
    message(FATAL_ERROR "write_cmake_package.cmake: -D${var}=... is required")
  endif()
endforeach()
include(CMakePackageConfigHelpers)
set(TUBO_VERSION "${VERSION}")
set(TUBO_ABSL_VERSION "${ABSL_VERSION}")
set(TUBO_ABSL_TARGETS "${ABSL_TARGETS}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/tuboConfig.cmake.in" "${DEST}/tuboConfig.cmake" @ONLY)
configure_file("${CMAKE_CURRENT_LIST_DIR}/tuboTargets.cmake.in" "${DEST}/tuboTargets.cmake" @ONLY)
# write_basic_package_version_file records the pointer size of the project
# that calls it (none in script mode): the installed libraries' is given.
set(CMAKE_SIZEOF_VOID_P "${SIZEOF_VOID_P}")
write_basic_package_version_file("${DEST}/tuboConfigVersion.cmake"
  VERSION "${VERSION}" COMPATIBILITY SameMajorVersion)

# How other builds find xisan: a pkg-config file and a CMake package, both
# usable from the build tree and after `cmake --install`.
#
#   pkg-config --cflags xisan          -> -I<include> -include xisan/python.h
#   find_package(xisan) + xisan::python (instrumented extensions)
#                       + xisan::xisan  (the core C API, libxisan.so)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# pkg-config: build tree first, then the installed one.
set(pc_includedir ${CMAKE_SOURCE_DIR}/include)
set(pc_libdir ${CMAKE_BINARY_DIR}/lib)
configure_file(${CMAKE_SOURCE_DIR}/cmake/xisan.pc.in ${CMAKE_BINARY_DIR}/lib/pkgconfig/xisan.pc @ONLY)
set(pc_includedir ${CMAKE_INSTALL_FULL_INCLUDEDIR})
set(pc_libdir ${CMAKE_INSTALL_FULL_LIBDIR})
configure_file(${CMAKE_SOURCE_DIR}/cmake/xisan.pc.in ${CMAKE_BINARY_DIR}/install/xisan.pc @ONLY)

add_library(xisan_python INTERFACE)
target_include_directories(xisan_python INTERFACE
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_options(xisan_python INTERFACE -include xisan/python.h)
set_target_properties(xisan_python PROPERTIES EXPORT_NAME python)
target_include_directories(xisan INTERFACE
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

export(TARGETS xisan_python xisan NAMESPACE xisan::
       FILE ${CMAKE_BINARY_DIR}/lib/cmake/xisan/xisanTargets.cmake)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/xisanConfig.cmake.in
  ${CMAKE_BINARY_DIR}/lib/cmake/xisan/xisanConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xisan)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/lib/cmake/xisan/xisanConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)

install(TARGETS xisan_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS xisan xisan_python EXPORT xisanTargets LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS xisan_preload LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
foreach(nn IN LISTS XISAN_PY_VERSIONS)
  install(TARGETS xisan_py${nn} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endforeach()
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_BINARY_DIR}/install/xisan.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(EXPORT xisanTargets NAMESPACE xisan:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xisan)
install(FILES ${CMAKE_BINARY_DIR}/lib/cmake/xisan/xisanConfig.cmake
              ${CMAKE_BINARY_DIR}/lib/cmake/xisan/xisanConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xisan)

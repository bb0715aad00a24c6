# The IRC protocol state machine (include/irc_session.h) driven through its API with
# fake hooks and a fake clock. Included from tests/irc/CMakeLists.txt.
add_executable(test_irc_session ${CMAKE_CURRENT_LIST_DIR}/test_irc_session.c)
target_link_libraries(test_irc_session PRIVATE careerbot_irc_client PkgConfig::OPENSSL PkgConfig::CMOCKA)
add_test(NAME irc_session COMMAND test_irc_session)

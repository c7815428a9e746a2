build-lead/obj/common/config_test.o: common/config_test.c common/config.h \
 tests/testlib.h
common/config.h:
tests/testlib.h:

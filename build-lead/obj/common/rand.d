build-lead/obj/common/rand.o: common/rand.c common/rand.h
common/rand.h:

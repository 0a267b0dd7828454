/* Times getaddrinfo() the way an app calls it (AF_UNSPEC: A and AAAA). Built with gcc (glibc) and musl-gcc. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: lookup NAME COUNT\n");
    return 2;
  }
  int count = atoi(argv[2]);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  for (int i = 0; i < count; i++) {
    struct addrinfo *res = NULL;
    double start = now_ms();
    int rc = getaddrinfo(argv[1], "80", &hints, &res);
    double took = now_ms() - start;
    /* One line per lookup: milliseconds, then 0 or the getaddrinfo error. */
    printf("%.3f %d\n", took, rc);
    if (res) freeaddrinfo(res);
  }
  return 0;
}

/* The DNS lab's client: COUNT getaddrinfo() calls for NAME, one line each: milliseconds, then the first
 * IPv4 address or the error. Built twice, with glibc (gcc) and with musl (musl-gcc -static). */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: lookup NAME [COUNT] [PAUSE_MS]\n");
    return 2;
  }
  int count = argc > 2 ? atoi(argv[2]) : 1;
  int pause_ms = argc > 3 ? atoi(argv[3]) : 0;
  for (int i = 0; i < count; i++) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    double start = now_ms();
    int rc = getaddrinfo(argv[1], NULL, &hints, &res);
    double ms = now_ms() - start;
    char ip[INET6_ADDRSTRLEN] = "-";
    if (rc == 0) {
      for (struct addrinfo *a = res; a; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
          inet_ntop(AF_INET, &((struct sockaddr_in *)a->ai_addr)->sin_addr, ip, sizeof ip);
          break;
        }
      }
      freeaddrinfo(res);
      printf("%.3f %s\n", ms, ip);
    } else {
      printf("%.3f ERR %s\n", ms, gai_strerror(rc));
    }
    fflush(stdout);
    if (pause_ms > 0) usleep(pause_ms * 1000);
  }
  return 0;
}

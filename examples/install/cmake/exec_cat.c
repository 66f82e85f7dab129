/* The exec start method in C, built against an installed tubo with CMake
 * (tubo::capi). Runs `cat` with its stdin and stdout on two pipes, sends three
 * messages (cat copies the framed bytes as they are), closes the write end
 * (cat sees end of file and exits), prints the messages that come back until
 * end of stream and cat's exit status. Exits 1 on any error.
 */
#include <stdio.h>
#include <string.h>

#include "tubo.h"

static int fail(const char *what, tubo_error *err) {
  fprintf(stderr, "exec_cat: %s: %s\n", what, err ? tubo_error_message(err) : "failed");
  tubo_error_free(err);
  return 1;
}

int main(void) {
  static const char *const words[] = {"alpha", "beta", "gamma"};
  tubo_end *to_cat_r, *to_cat_w, *from_cat_r, *from_cat_w;
  tubo_command *command = NULL;
  tubo_process *cat = NULL;
  tubo_bytes *message = NULL;
  tubo_error *err = NULL;
  int rc, code = -1;
  size_t i;

  if (tubo_pipe_new(&to_cat_r, &to_cat_w, &err) != TUBO_OK) return fail("pipe", err);
  if (tubo_pipe_new(&from_cat_r, &from_cat_w, &err) != TUBO_OK) return fail("pipe", err);
  if (tubo_command_new(&command, "cat", &err) != TUBO_OK) return fail("command", err);
  /* Both ends are consumed: the parent keeps no copy, so cat's end of file and
   * the parent's end of stream come when they should. */
  if (tubo_command_stdio_end(command, TUBO_STDIN, to_cat_r, &err) != TUBO_OK ||
      tubo_command_stdio_end(command, TUBO_STDOUT, from_cat_w, &err) != TUBO_OK) {
    return fail("stdio", err);
  }
  rc = tubo_command_spawn(&cat, command, &err);
  tubo_command_free(command);
  if (rc != TUBO_OK) return fail("spawn", err);

  for (i = 0; i < sizeof words / sizeof words[0]; ++i) {
    if (tubo_end_send(to_cat_w, words[i], strlen(words[i]), &err) != TUBO_OK) {
      return fail("send", err);
    }
  }
  if (tubo_end_close(to_cat_w, &err) != TUBO_OK) return fail("close", err);
  tubo_end_free(to_cat_w);

  printf("exec_cat:");
  while ((rc = tubo_end_recv(&message, from_cat_r, &err)) == TUBO_OK) {
    printf(" %.*s", (int)message->len, (const char *)message->data);
    tubo_bytes_free(message);
  }
  if (rc != TUBO_EOF) return fail("recv", err);
  tubo_end_free(from_cat_r);
  if (tubo_process_wait(&code, cat, &err) != TUBO_OK) return fail("wait", err);
  tubo_process_free(cat);
  printf("\nexec_cat: end of stream, cat exited with %d\n", code);
  return code == 0 ? 0 : 1;
}

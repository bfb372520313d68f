# Values reach the shell only as environment variables of a fixed script, never spliced into it.
resource "terraform_data" "server" {
  input = {
    name = var.name
    ipv4 = var.ipv4
  }

  triggers_replace = [var.name]

  provisioner "local-exec" {
    command = <<-EOT
      printf 'creating server %s\n' "$SERVER_NAME"
      if [ -n "$ECHO_TEXT" ]; then printf '%s\n' "$ECHO_TEXT"; fi
      if [ "$FAIL" = "true" ]; then
        printf 'cannot create server %s: failure requested\n' "$SERVER_NAME"
        exit 7
      fi
      printf 'server %s is up\n' "$SERVER_NAME"
    EOT

    environment = {
      SERVER_NAME = var.name
      ECHO_TEXT   = var.echo_text
      FAIL        = tostring(var.fail)
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "printf 'deleting server %s\\n' \"$SERVER_NAME\""

    environment = {
      SERVER_NAME = self.input.name
    }
  }
}

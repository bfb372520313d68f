provider "hcloud" {
  token         = var.hcloud_token
  endpoint      = var.endpoint
  poll_interval = "1s"
}

locals {
  # Keyed by a digest of the key so that reordering the list does not replace keys.
  ssh_keys = { for key in var.ssh_public_keys : substr(sha256(trimspace(key)), 0, 12) => trimspace(key) }
}

resource "hcloud_ssh_key" "this" {
  for_each = local.ssh_keys

  name       = "${var.name}-${each.key}"
  public_key = each.value
  labels     = var.labels
}

resource "hcloud_server" "this" {
  name        = var.name
  server_type = var.server_type
  image       = var.image
  location    = var.location
  ssh_keys    = [for key in hcloud_ssh_key.this : key.id]
  backups     = var.backups
  labels      = var.labels

  public_net {
    ipv4_enabled = true
    ipv6_enabled = true
  }

  # Keys are only injected at creation; the provider would replace the server for a new one.
  lifecycle {
    ignore_changes = [ssh_keys]
  }
}

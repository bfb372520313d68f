variable "hcloud_token" {
  description = "Hetzner Cloud API token with read/write access to the project."
  type        = string
  sensitive   = true
}

variable "endpoint" {
  description = "Hetzner Cloud API base URL; override only to reach a mock or proxy."
  type        = string
  default     = "https://api.hetzner.cloud/v1"
}

variable "name" {
  description = "Server name, unique within the project (also the hostname)."
  type        = string
}

variable "server_type" {
  description = "Server type, e.g. cx22."
  type        = string
}

variable "image" {
  description = "Image name or id, e.g. debian-12."
  type        = string
}

variable "location" {
  description = "Location, e.g. fsn1, nbg1 or hel1."
  type        = string
}

variable "ssh_public_keys" {
  description = "OpenSSH public keys to install for root."
  type        = list(string)
  default     = []
}

variable "labels" {
  description = "Labels for the server and its SSH keys, e.g. provisio-request = <uuid>."
  type        = map(string)
  default     = {}
}

variable "backups" {
  description = "Enable Hetzner's automatic daily backups (billed extra)."
  type        = bool
  default     = false
}

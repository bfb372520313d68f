variable "endpoint" {
  description = "Proxmox VE API URL, e.g. https://pve.example.internal:8006/."
  type        = string
}

variable "api_token" {
  description = "Proxmox VE API token in the form user@realm!tokenid=uuid."
  type        = string
  sensitive   = true
}

variable "insecure" {
  description = "Skip TLS verification of the Proxmox VE API (self-signed certificates)."
  type        = bool
  default     = false
}

variable "node" {
  description = "Name of the Proxmox VE node that hosts the container."
  type        = string
}

variable "vm_id" {
  description = "Container id; null lets Proxmox VE choose the next free id."
  type        = number
  default     = null
}

variable "template_file_id" {
  description = "OS template volume, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst."
  type        = string
}

variable "os_type" {
  description = "Distribution of the template (debian, ubuntu, alpine, ...), used by Proxmox VE to configure the network."
  type        = string
  default     = "debian"
}

variable "hostname" {
  description = "Container hostname."
  type        = string
}

variable "cores" {
  description = "Number of CPU cores."
  type        = number
  default     = 1
}

variable "memory" {
  description = "Dedicated memory in MiB."
  type        = number
  default     = 1024
}

variable "disk" {
  description = "Root filesystem size in GB."
  type        = number
  default     = 8
}

variable "datastore" {
  description = "Datastore for the root filesystem."
  type        = string
  default     = "local-lvm"
}

variable "bridge" {
  description = "Network bridge of eth0."
  type        = string
  default     = "vmbr0"
}

variable "keys" {
  description = "OpenSSH public keys installed for root."
  type        = list(string)
  default     = []
}

variable "unprivileged" {
  description = "Run the container unprivileged (recommended)."
  type        = bool
  default     = true
}

variable "nesting" {
  description = "Allow nesting, which current systemd inside unprivileged containers needs."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Proxmox VE tags (lowercase)."
  type        = list(string)
  default     = []
}

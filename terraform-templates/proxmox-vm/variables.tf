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
  description = "Name of the Proxmox VE node that hosts the VM."
  type        = string
}

variable "vm_id" {
  description = "VM id; null lets Proxmox VE choose the next free id."
  type        = number
  default     = null
}

variable "template_vm_id" {
  description = "Id of the cloud-init template VM to clone."
  type        = number
}

variable "name" {
  description = "VM name (also the hostname set by cloud-init)."
  type        = string
}

variable "cores" {
  description = "Number of CPU cores."
  type        = number
  default     = 2
}

variable "memory_mb" {
  description = "Dedicated memory in MiB."
  type        = number
  default     = 2048
}

variable "disk_gb" {
  description = "Size of the boot disk in GB; must not be smaller than the template's disk."
  type        = number
  default     = 20
}

variable "datastore" {
  description = "Datastore for the cloned disk and the cloud-init drive."
  type        = string
  default     = "local-lvm"
}

variable "bridge" {
  description = "Network bridge of the VM's network device."
  type        = string
  default     = "vmbr0"
}

variable "ssh_public_keys" {
  description = "OpenSSH public keys that cloud-init installs for ci_user."
  type        = list(string)
  default     = []
}

variable "ci_user" {
  description = "User that cloud-init creates."
  type        = string
  default     = "provisio"
}

variable "tags" {
  description = "Proxmox VE tags (lowercase)."
  type        = list(string)
  default     = []
}

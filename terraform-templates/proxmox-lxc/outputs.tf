output "server_id" {
  description = "Proxmox VE container id."
  value       = proxmox_virtual_environment_container.this.id
}

output "ipv4" {
  description = "IPv4 address of eth0 as reported by Proxmox VE, or null."
  value       = try(proxmox_virtual_environment_container.this.ipv4["eth0"], null)
}

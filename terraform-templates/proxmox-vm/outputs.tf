locals {
  # One list per interface, loopback included; the first other address is the one to reach.
  reachable_ipv4 = [
    for ip in flatten(proxmox_virtual_environment_vm.this.ipv4_addresses) : ip
    if !startswith(ip, "127.")
  ]
}

output "server_id" {
  description = "Proxmox VE VM id."
  value       = proxmox_virtual_environment_vm.this.id
}

output "ipv4" {
  description = "First non-loopback IPv4 address reported by the guest agent, or null."
  value       = length(local.reachable_ipv4) > 0 ? local.reachable_ipv4[0] : null
}

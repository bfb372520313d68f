"""Serve fakepve (PyPI, AGPL-3.0-or-later, a test-only tool) for Provisio's integration and e2e tests.

Started by scripts/fakes.sh with the fakepve venv's python. On top of what the fakepve CLI offers:

- an API token (the CLI only knows ticket logins): FAKEPVE_TOKEN_ID=FAKEPVE_TOKEN_SECRET;
- a cloud-init template VM (FAKEPVE_TEMPLATE_VMID, default 9000: template, agent enabled, cloudinit
  drive) and an LXC template in storage `local` (FAKEPVE_CT_TEMPLATE);
- a guest agent that comes up FAKEPVE_AGENT_DELAY seconds after a VM with `agent` enabled starts, and
  then reports an `eth0` with FAKEPVE_GUEST_IPV4 (`ip` or `ip/prefix`, default 127.0.0.1/8) through
  GET .../qemu/{vmid}/agent/network-get-interfaces. fakepve itself answers that call with
  500 "QEMU guest agent is not running" while `vm.agent is None`, and with the canned interfaces of
  fakepve/agent.py (eth0 192.0.2.10) once `vm.agent` is a dict; a dict with an 'interfaces' key
  overrides the answer, so that is what the launcher sets. It sets `vm.agent` back to None when the VM
  stops, and never touches an agent it did not set (one set through the admin API stays);
- GET .../lxc/{vmid}/interfaces: fakepve reports an address only for `net0: ...,ip=CIDR`; for
  `ip=dhcp` (or no ip) the launcher adds FAKEPVE_GUEST_IPV4 to the running container's interface, as a
  DHCP lease would. This overrides FakePve._lxc_interfaces, a private method of fakepve 0.5.0;
- a small admin API on http://HOST:FAKEPVE_ADMIN_PORT (plain HTTP, loopback) for faults and checks:
    GET    /health
    POST   /fail       {"method", "path", "status", "message"} or {"method", "path", "error"}, optional
                       "times" (fail that many requests, then stop) and "html": FakePve.fail(). "path" is a
                       path suffix ("/status/start") or a schema template ("/nodes/{node}/qemu/{vmid}/clone");
                       "error" is a name from GET /errors (PVE's own message; an error raised inside a
                       worker answers with a UPID whose task ends in `TASK ERROR: ...`).
    DELETE /fail       forget every failure
    GET    /errors?method=POST&path=/nodes/pve1/qemu/101/status/start   FakePve.errors_for()
    POST   /guests/{vmid}   attributes of a VM or container: agent (null|{}|{"interfaces": [...]}),
                       agent_hangs, acpi, start_error, shutdown_secs, start_secs, stop_secs, ha_state, stats,
                       and the launcher's own "ipv4" (this guest's address instead of FAKEPVE_GUEST_IPV4)
    POST   /scenario   {"name": ..., "args": [...], "kwargs": {...}}: one of SCENARIOS below
    GET    /requests?since=N   requests fakepve has seen, [method, path, body] (path without the query)
"""

import asyncio
import ipaddress
import json
import os
import re
import sys
import time

from aiohttp import web
from fakepve import FakePve
from fakepve.certs import make_cert

# Model methods the admin API may call (see fakepve/model.py); the async ones are awaited.
SCENARIOS = ('lose_quorum', 'regain_quorum', 'set_node_offline', 'hold_config_lock', 'release_config_lock',
             'snapshot_lock', 'unlock', 'backup', 'migrate', 'slow_network', 'flaky_network', 'revoke_tickets',
             'ceph_slow', 'ceph_down', 'ceph_recover')
GUEST_ATTRS = ('agent', 'agent_hangs', 'acpi', 'start_error', 'shutdown_secs', 'start_secs', 'stop_secs',
               'ha_state', 'stats')


def env(name, default):
    return os.environ.get(name, default)


def parse_ipv4(text):
    """'10.0.0.5' or '10.0.0.5/24' -> (address, prefix); a bare address gets /24 (/8 for 127.x)."""
    iface = ipaddress.IPv4Interface(text if '/' in text else text + ('/8' if text.startswith('127.') else '/24'))
    return str(iface.ip), iface.network.prefixlen


def agent_enabled(config):
    """PVE's `agent` option: '1', 'enabled=1', '1,fstrim_cloned_disks=1', ..."""
    for part in str(config.get('agent', '0')).split(','):
        key, _, value = part.partition('=')
        if (value == '' and key == '1') or (key == 'enabled' and value == '1'):
            return True
    return False


def mac_of(net):
    """The MAC of a qemu netN value such as 'virtio=BC:24:11:00:00:01,bridge=vmbr0'."""
    found = re.search(r'(?:^|,)[a-z0-9-]+=([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})', net or '')
    return found.group(1).lower() if found else 'bc:24:11:00:00:01'


class Launcher(object):
    def __init__(self):
        self.host = env('FAKEPVE_HOST', '127.0.0.1')
        self.port = int(env('FAKEPVE_PORT', '18006'))
        self.admin_port = int(env('FAKEPVE_ADMIN_PORT', '18007'))
        self.node = env('FAKEPVE_NODE', 'pve1')
        self.ipv4 = parse_ipv4(env('FAKEPVE_GUEST_IPV4', '127.0.0.1'))
        self.agent_delay = float(env('FAKEPVE_AGENT_DELAY', '0.5'))
        # vmid -> started_at of the boot whose agent this launcher switched on
        self.agents = {}
        # vmid -> (address, prefix) set through the admin API
        self.guest_ipv4 = {}
        launcher = self

        class Pve(FakePve):
            async def _lxc_interfaces(self, user, v):
                out = await super()._lxc_interfaces(user, v)
                return launcher.lease(self._find_ct(v['node'], v['vmid']), out)

        self.pve = Pve(user='root@pam', password=env('FAKEPVE_PASSWORD', 'secret'), host=self.host,
                       port=self.port)

    # ------------------------------------------------------------ set-up

    def populate(self):
        pve = self.pve
        pve.time_scale = float(env('FAKEPVE_TIME_SCALE', '0.01'))
        pve.apitokens[env('FAKEPVE_TOKEN_ID', 'root@pam!ci')] = env('FAKEPVE_TOKEN_SECRET',
                                                                     '5e2c1d8a-0f4b-4c7e-9a61-3b7d2f9e8c10')
        if self.node not in pve.nodes:
            pve.nodes = {self.node: {'online': True}}
        vmid = int(env('FAKEPVE_TEMPLATE_VMID', '9000'))
        pve.add_vm(vmid, env('FAKEPVE_TEMPLATE_NAME', 'debian12-cloudinit'), node=self.node, status='stopped',
                   template=True, config={
                       'scsi0': 'local-lvm:base-{0}-disk-0,size=8G'.format(vmid), 'scsihw': 'virtio-scsi-pci',
                       'ide2': 'local-lvm:vm-{0}-cloudinit,media=cdrom'.format(vmid), 'boot': 'order=scsi0',
                       'net0': 'virtio=BC:24:11:00:90:00,bridge=vmbr0', 'agent': '1', 'ostype': 'l26',
                       'memory': '2048', 'cores': '2', 'serial0': 'socket', 'vga': 'serial0', 'template': 1})
        pve.store_file('local', env('FAKEPVE_CT_TEMPLATE', 'debian-12-standard_12.7-1_amd64.tar.zst'),
                       130 * 1024 ** 2, content='vztmpl')

    # ------------------------------------------------------- guest agent

    def address(self, vmid):
        return self.guest_ipv4.get(vmid, self.ipv4)

    def interfaces(self, vm):
        ip, prefix = self.address(vm.vmid)
        return [{'name': 'lo', 'hardware-address': '00:00:00:00:00:00',
                 'ip-addresses': [{'ip-address-type': 'ipv4', 'ip-address': '127.0.0.1', 'prefix': 8},
                                  {'ip-address-type': 'ipv6', 'ip-address': '::1', 'prefix': 128}]},
                {'name': 'eth0', 'hardware-address': mac_of(vm.config.get('net0')),
                 'ip-addresses': [{'ip-address-type': 'ipv4', 'ip-address': ip, 'prefix': prefix}]}]

    def tick(self):
        """Switch agents on once a VM has been running agent_delay seconds, and off when it stops."""
        now = time.time()
        for vm in list(self.pve.vms):
            mine = self.agents.get(vm.vmid)
            if vm.status != 'running' or not agent_enabled(vm.config):
                if mine is not None:
                    del self.agents[vm.vmid]
                    vm.agent = None
                continue
            if mine is not None and mine != vm.started_at:  # rebooted: the agent starts again
                del self.agents[vm.vmid]
                vm.agent = None
                mine = None
            if mine is None and vm.agent is None and vm.started_at and now - vm.started_at >= self.agent_delay:
                vm.agent = {'interfaces': self.interfaces(vm)}
                self.agents[vm.vmid] = vm.started_at

    async def agent_loop(self):
        while True:
            try:
                self.tick()
            except Exception as e:  # noqa: BLE001 - keep the loop alive
                print('fakepve launcher: agent loop: {0!r}'.format(e), file=sys.stderr, flush=True)
            await asyncio.sleep(0.05)

    def lease(self, ct, out):
        """Give a running container's DHCP interfaces the guest address (fakepve reports static ip= only)."""
        if not out:
            return out
        ip, prefix = self.address(ct.vmid)
        for item in out:
            if item.get('name') != 'lo' and 'inet' not in item:
                item['inet'] = '{0}/{1}'.format(ip, prefix)
                item['ip-addresses'].insert(0, {'ip-address-type': 'inet', 'ip-address': ip, 'prefix': str(prefix)})
        return out

    # --------------------------------------------------------- admin API

    def admin_app(self):
        pve = self.pve

        def reply(data=None, status=200):
            return web.json_response({'data': data}, status=status)

        async def body(request):
            try:
                data = await request.json()
            except ValueError:
                raise web.HTTPBadRequest(text='body must be a JSON object')
            if not isinstance(data, dict):
                raise web.HTTPBadRequest(text='body must be a JSON object')
            return data

        async def health(_request):
            return reply('ok')

        async def fail(request):
            data = await body(request)
            if data.get('error') and '{' in str(data.get('path')):
                # fakepve checks the name only for a concrete path: try the template with sample values.
                sample = re.sub(r'\{(\w+)\}', lambda m: {'node': self.node, 'vmid': '100'}.get(m.group(1), 'x'),
                                data['path'])
                names = [e['name'] for e in pve.errors_for(str(data.get('method', '')).upper(), sample)]
                if names and data['error'] not in names:
                    return reply('no error {0!r} for {1} {2}; known: {3}'.format(
                        data['error'], data.get('method'), data['path'], ', '.join(names)), 400)
            try:
                pve.fail(data['method'].upper(), data['path'], status=data.get('status'),
                         message=data.get('message'), html=bool(data.get('html')), error=data.get('error'),
                         times=data.get('times'))
            except (KeyError, TypeError, ValueError) as e:
                return reply(str(e), 400)
            return reply(sorted('{0} {1}'.format(*k) for k in pve.failures))

        async def clear(_request):
            pve.failures.clear()
            return reply([])

        async def errors_for(request):
            found = pve.errors_for(request.query.get('method', 'GET').upper(), request.query.get('path', '/'))
            return reply(found)

        async def guest(request):
            vmid = int(request.match_info['vmid'])
            target = pve.guest(vmid)
            if target is None:
                return reply('no guest {0}'.format(vmid), 404)
            data = await body(request)
            unknown = set(data) - set(GUEST_ATTRS) - {'ipv4'}
            if unknown:
                return reply('unknown attributes: {0}'.format(', '.join(sorted(unknown))), 400)
            if 'ipv4' in data:
                if data['ipv4'] is None:
                    self.guest_ipv4.pop(vmid, None)
                else:
                    self.guest_ipv4[vmid] = parse_ipv4(data['ipv4'])
                if self.agents.get(vmid) is not None and target.agent is not None:
                    target.agent = {'interfaces': self.interfaces(target)}
            for key in GUEST_ATTRS:
                if key in data:
                    setattr(target, key, data[key])
                    if key == 'agent':
                        self.agents.pop(vmid, None)  # set by the test: the launcher leaves it alone
            return reply({'vmid': vmid, 'status': target.status})

        async def scenario(request):
            data = await body(request)
            name = data.get('name')
            if name not in SCENARIOS:
                return reply('name must be one of: ' + ', '.join(SCENARIOS), 400)
            try:
                result = getattr(pve, name)(*data.get('args', []), **data.get('kwargs', {}))
                if asyncio.iscoroutine(result):
                    result = await result
            except Exception as e:  # noqa: BLE001 - report to the test
                return reply('{0}: {1}'.format(type(e).__name__, e), 400)
            return reply(result if isinstance(result, (str, int, float, bool, type(None))) else None)

        async def requests(request):
            since = int(request.query.get('since', '0'))
            seen = [[m, p, b.decode('utf-8', 'replace')] for m, p, b in pve.requests[since:]]
            return web.json_response({'data': seen, 'next': since + len(seen)})

        app = web.Application()
        app.router.add_get('/health', health)
        app.router.add_post('/fail', fail)
        app.router.add_delete('/fail', clear)
        app.router.add_get('/errors', errors_for)
        app.router.add_post('/guests/{vmid:\\d+}', guest)
        app.router.add_post('/scenario', scenario)
        app.router.add_get('/requests', requests)
        return app

    # --------------------------------------------------------------- run

    async def run(self, directory):
        certfile, keyfile, _ = make_cert(directory, name='fakepve', hosts=(self.host,))
        self.populate()
        await self.pve.start(certfile, keyfile)
        runner = web.AppRunner(self.admin_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.admin_port).start()
        agents = asyncio.ensure_future(self.agent_loop())
        print('fakepve listening on {0} (node {1}, CA {2}); admin on http://{3}:{4}'.format(
            self.pve.url, self.node, certfile, self.host, self.admin_port), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            agents.cancel()
            await runner.cleanup()
            await self.pve.stop()


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: fakepve_launcher.py RUNTIME_DIR  (settings in FAKEPVE_* variables)')
    try:
        asyncio.run(Launcher().run(sys.argv[1]))
    except KeyboardInterrupt:
        pass

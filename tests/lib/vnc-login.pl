#!/usr/bin/perl
# vnc-login.pl PORT [PASSWORD]: logs in to the VNC server on 127.0.0.1:PORT
# as a real client does (RFB handshake, VNC DES authentication); exits 0 and
# prints "ok" when it is let in, exits 1 with the server's refusal otherwise.
use strict;
use warnings;
use Net::VNC;

my ($port, $password) = @ARGV;
die "usage: vnc-login.pl PORT [PASSWORD]\n" unless defined $port;
my $vnc = Net::VNC->new({ hostname => '127.0.0.1', port => $port,
                          defined $password ? (password => $password) : () });
if (eval { $vnc->login; 1 }) {
        print "ok\n";
        exit 0;
}
my $why = $@ || 'refused';
$why =~ s/ at \S+ line \d+.*//s;
print "refused: $why\n";
exit 1;

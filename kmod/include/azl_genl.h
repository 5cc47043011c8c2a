/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic netlink boilerplate the families of the azl_* modules share:
 * the header of an object message (a dump part or an event), the event
 * send, the end of a dump part, and the reply that carries one u32.
 * Each family stays static in its module and is passed by pointer; the
 * events go to the initial network namespace, the only one the families
 * serve.
 */
#ifndef _AZL_GENL_H
#define _AZL_GENL_H

#include <net/genetlink.h>

/*
 * The header of a message about one object: a part of the dump @cb
 * (NLM_F_MULTI, to the dump's reader, flagged NLM_F_DUMP_INTR when cb->seq
 * changed between parts), or an event when @cb is NULL.  NULL when @skb
 * is full.
 */
static inline void *azl_genl_put(struct sk_buff *skb, struct netlink_callback *cb,
				 const struct genl_family *family, u8 cmd)
{
	void *hdr;

	if (!cb)
		return genlmsg_put(skb, 0, 0, family, 0, cmd);
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  family, NLM_F_MULTI, cmd);
	if (hdr)
		genl_dump_check_consistent(cb, hdr);
	return hdr;
}

/*
 * What a dump part returns after filling @skb, @ret the last fill's
 * result: a full skb that holds something ends this part and the core
 * calls the dump again for the rest; any other error ends the dump.
 */
static inline int azl_genl_dump_done(struct sk_buff *skb, int ret)
{
	if (ret == -EMSGSIZE && skb->len)
		return skb->len;
	return ret ? ret : skb->len;
}

/*
 * Send an event to multicast group @group (an index into the family's
 * mcgrps) of @family, only when someone listens there.  @skb names a
 * struct sk_buff * of the caller that @fill, an expression evaluated once
 * with the new message in @skb, fills; @fill is 0 on success, and the
 * message is dropped otherwise.  May sleep.
 */
#define azl_genl_notify(family, group, skb, fill)				\
	do {									\
		const struct genl_family *__azl_fam = (family);		\
		unsigned int __azl_grp = (group);				\
										\
		if (genl_has_listeners(__azl_fam, &init_net, __azl_grp)) {	\
			(skb) = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);	\
			if (!(skb))						\
				break;						\
			if (fill)						\
				nlmsg_free(skb);				\
			else							\
				genlmsg_multicast(__azl_fam, (skb), 0,		\
						  __azl_grp, GFP_KERNEL);	\
		}								\
	} while (0)

/* The reply to @info (its own command) that carries one u32 @attr. */
static inline int azl_genl_reply_u32(struct genl_info *info,
				     const struct genl_family *family,
				     int attr, u32 value)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	void *hdr;

	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, family, 0, info->genlhdr->cmd);
	if (!hdr || nla_put_u32(msg, attr, value)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

#endif /* _AZL_GENL_H */
